import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

/**
 * The dependency rule of docs/architecture.md, checked on every relative import in src/:
 * api → domain → storage, providers, sandbox; api → http; jobs → domain; web → domain; leaves
 * (schemas, errors, config, tracing, logger, principal, pacing, metrics (and metrics-summed), request-context, request-log, regexp-guard) import no layer. Nothing imports api/ but app.ts.
 */
const SRC = path.resolve(import.meta.dirname, '../../src')

const ALLOWED: Record<string, string[]> = {
  api: ['api', 'domain', 'http', 'leaf', 'context'],
  domain: ['domain', 'storage', 'providers', 'sandbox', 'leaf'],
  http: ['http', 'leaf'],
  storage: ['storage', 'leaf'],
  providers: ['providers', 'leaf'],
  sandbox: ['sandbox', 'leaf'],
  jobs: ['jobs', 'domain', 'storage', 'leaf'],
  web: ['web', 'domain', 'http', 'leaf', 'context'],
  leaf: ['leaf'],
  root: ['api', 'domain', 'http', 'storage', 'providers', 'sandbox', 'jobs', 'web', 'leaf', 'root', 'context'],
  context: ['domain', 'storage', 'providers', 'sandbox', 'jobs', 'leaf', 'context'],
}

function layerOf(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep)
  if (rel.length === 1) {
    const name = rel[0].replace(/\.tsx?$/, '')
    if (['errors', 'logger', 'principal', 'pacing', 'io-batch', 'metrics', 'metrics-summed', 'request-context', 'request-log', 'regexp-guard'].includes(name)) return 'leaf'
    if (name === 'context') return 'context'
    return 'root'
  }
  if (['schemas', 'config', 'tracing'].includes(rel[0])) return 'leaf'
  return rel[0]
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(full)
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.test.ts') ? [full] : []
  })
}

describe('dependency rule', () => {
  it('every import in src/ goes only where the layers allow', () => {
    const violations: string[] = []
    for (const file of sourceFiles(SRC)) {
      const from = layerOf(file)
      const text = fs.readFileSync(file, 'utf8')
      for (const match of text.matchAll(/from '(\.[^']+)'/g)) {
        const target = path.resolve(path.dirname(file), match[1]).replace(/\.js$/, '.ts')
        const to = layerOf(target)
        if (!ALLOWED[from]?.includes(to)) violations.push(`${path.relative(SRC, file)} (${from}) imports ${match[1]} (${to})`)
      }
    }
    expect(violations).toEqual([])
  })
})
