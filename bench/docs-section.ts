import fs from 'node:fs'
import path from 'node:path'

const FILE = path.resolve(import.meta.dirname, '../docs/benchmarks.md')

/**
 * Writes one benchmark's section into docs/benchmarks.md: `text` starts with `heading` and
 * replaces the section under that heading (up to the next `## `), leaving the others as they are.
 */
export function writeBenchmarkSection(heading: string, text: string) {
  const document = fs.existsSync(FILE) ? fs.readFileSync(FILE, 'utf8') : '# Benchmarks\n'
  const start = document.indexOf(heading)
  let updated: string
  if (start < 0) updated = document.trimEnd() + '\n\n' + text
  else {
    const next = document.indexOf('\n## ', start + heading.length)
    const end = next < 0 ? document.length : next + 1
    updated = document.slice(0, start) + text + (next < 0 ? '' : '\n') + document.slice(end)
  }
  fs.writeFileSync(FILE, updated)
  console.error(`wrote ${path.relative(process.cwd(), FILE)}`)
}
