import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { runProcess } from '../../src/providers/local-audio/process-pipe.js'

/**
 * Issue 20: an EventEmitter that emits 'error' with no listener throws it, which ends the process
 * (a PostgreSQL restart killed every node that way). Every emitter Plinth creates that reports
 * failures as 'error' events (pg pools and clients, ioredis, child processes and their stdin,
 * worker threads) must get a listener in the file that creates it; this finds each creation and
 * checks. A new kind of emitter belongs in EMITTERS. Runtime tests make each one fail:
 * test/storage/pg-connection-loss.test.ts (pg), test/api/rate-limits-redis-down.test.ts and the
 * chaos test (ioredis), the last test below (child processes).
 *
 * Not here: undici's Pool (it reports through promises and 'connectionError', never 'error'),
 * http servers (main.ts listens for 'error' while binding; Node handles 'clientError' itself).
 */
const SRC = path.resolve(import.meta.dirname, '../../src')

const EMITTERS: { what: string; pattern: RegExp }[] = [
  { what: 'pg pool', pattern: /new pg\.Pool\(/ },
  { what: 'pg client', pattern: /new pg\.Client\(/ },
  { what: 'ioredis', pattern: /new Redis\(/ },
  { what: 'child process', pattern: /\bspawn\(/ },
  { what: 'worker thread', pattern: /new Worker\(/ },
  { what: 'WebSocket server', pattern: /new WebSocketServer\(/ },
  { what: 'socket', pattern: /\b(?:net\.connect|net\.createConnection|tls\.connect)\(/ },
]

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(full)
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.test.ts') ? [full] : []
  })
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Each creation in `text`: the emitter, the name it is assigned to, and its line. */
function creations(text: string) {
  const found: { what: string; name: string | undefined; line: number; statement: string }[] = []
  const lines = text.split('\n')
  lines.forEach((line, i) => {
    if (/^\s*(\/\/|\*)/.test(line)) return
    for (const { what, pattern } of EMITTERS) {
      if (!pattern.test(line)) continue
      const assigned = /(?:const|let)\s+(\w+)\s*=|((?:this\.)?\w+)\s*=(?!=)/.exec(line)
      found.push({ what, name: assigned?.[1] ?? assigned?.[2], line: i + 1, statement: lines.slice(i, i + 4).join('\n') })
    }
  })
  return found
}

/** What is missing for one creation: the emitter's own listener, and its stdin's when piped. */
function missingListeners(text: string, creation: ReturnType<typeof creations>[number]): string[] {
  const { name, what } = creation
  if (!name) return ['the emitter is not assigned to a name, so no listener can be attached']
  const n = escape(name)
  const missing: string[] = []
  const listens = new RegExp(`${n}!?\\.on\\('error'`).test(text) || (what === 'pg pool' && new RegExp(`guardPool\\(${n}\\)`).test(text))
  if (!listens) missing.push(`no ${name}.on('error', ...)`)
  // once('error') is not enough: a second 'error' event would find no listener
  if (new RegExp(`${n}!?\\.once\\('error'`).test(text)) missing.push(`${name}.once('error') leaves a second error unheard`)
  if (what === 'child process' && /stdio:\s*\[\s*'pipe'|stdio:\s*'pipe'/.test(creation.statement) && !new RegExp(`${n}!?\\.stdin!?\\.on\\('error'`).test(text))
    missing.push(`no ${name}.stdin.on('error', ...) (EPIPE when the child exits before reading)`)
  return missing
}

describe("every 'error' emitter Plinth creates has a listener", () => {
  it('in src/', () => {
    const problems: string[] = []
    let count = 0
    for (const file of sourceFiles(SRC)) {
      const text = fs.readFileSync(file, 'utf8')
      for (const creation of creations(text)) {
        count++
        for (const missing of missingListeners(text, creation)) problems.push(`${path.relative(SRC, file)}:${creation.line} (${creation.what}): ${missing}`)
      }
    }
    expect(problems).toEqual([])
    // the audit found the emitters it is about (a pattern that matches nothing checks nothing)
    expect(count).toBeGreaterThanOrEqual(10)
  })

  it('the audit catches an emitter without a listener', () => {
    const bad = "const child = spawn('x', [], { stdio: ['pipe', 'pipe', 'pipe'] })\nchild.once('error', reject)\n"
    const [creation] = creations(bad)
    expect(missingListeners(bad, creation)).toEqual([
      "no child.on('error', ...)",
      "child.once('error') leaves a second error unheard",
      "no child.stdin.on('error', ...) (EPIPE when the child exits before reading)",
    ])
    const pool = 'const pool = new pg.Pool({})\n'
    expect(missingListeners(pool, creations(pool)[0])).toEqual(["no pool.on('error', ...)"])
    const good = "this.redis = new Redis(url)\nthis.redis.on('error', () => {})\n"
    expect(missingListeners(good, creations(good)[0])).toEqual([])
  })
})

describe('child processes that fail', () => {
  it('a command that does not exist rejects; the process goes on', async () => {
    const error = await runProcess('/nonexistent/plinth-no-such-command', []).catch((e: unknown) => e)
    expect((error as NodeJS.ErrnoException).code).toBe('ENOENT')
  })

  it('a child that exits without reading its input (EPIPE on stdin) settles; the process goes on', async () => {
    // 8 MB: far more than a pipe buffers, so the write fails once `true` has exited
    const outcome = await runProcess('true', [], { input: new Uint8Array(8 << 20) }).then(
      (out) => `exit 0, ${out.length} bytes`,
      (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message,
    )
    expect(['exit 0, 0 bytes', 'EPIPE', 'ERR_STREAM_DESTROYED']).toContain(outcome)
  })
})
