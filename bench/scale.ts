// npm run bench:scale: the reads of issue 18 at 1,000 objects and at scale, on SQLite and (with
// TEST_PG_URL) PostgreSQL. Target: each within 2x of its time at 1,000 objects.
// Sizes: SCALE_FILES, SCALE_COMPLETIONS, SCALE_MESSAGES, SCALE_BATCHES, SCALE_USAGE; the full
// sizes are 1M, 1M, 10k, 100k and 10M (SCALE_FULL=1).
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { openStorage } from '../src/storage/storage.js'
import type { StorageConfig } from '../src/storage/dialect.js'
import { generate, operations, type ScaleSizes } from './scale-data.js'

const full = process.env.SCALE_FULL === '1'
const size = (name: string, fallback: number, target: number) => Number(process.env[name] ?? (full ? target : fallback))
const large: ScaleSizes = {
  files: size('SCALE_FILES', 200_000, 1_000_000),
  completions: size('SCALE_COMPLETIONS', 200_000, 1_000_000),
  messages: size('SCALE_MESSAGES', 10_000, 10_000),
  batches: size('SCALE_BATCHES', 100_000, 100_000),
  usage: size('SCALE_USAGE', 1_000_000, 10_000_000),
}
const small: ScaleSizes = { files: 1000, completions: 1000, messages: 1000, batches: 1000, usage: 1000 }
const repeats = Number(process.env.SCALE_REPEATS ?? 30)

type Timing = Map<string, number>

async function measure(config: StorageConfig, cleanup: () => Promise<void>, sizes: ScaleSizes): Promise<Timing> {
  const storage = await openStorage(config)
  const timing: Timing = new Map()
  try {
    console.error(`${config.kind}, ${JSON.stringify(sizes)}:`)
    await generate(storage, sizes, (line) => console.error(line))
    for (const op of operations(sizes)) {
      for (let i = 0; i < 3; i++) await op.run(storage.db)
      const times: number[] = []
      for (let i = 0; i < repeats; i++) {
        const t0 = performance.now()
        await op.run(storage.db)
        times.push(performance.now() - t0)
      }
      times.sort((a, b) => a - b)
      timing.set(op.name, times[times.length >> 1])
    }
  } finally {
    await storage.close()
    await cleanup()
  }
  return timing
}

function sqliteCase(): [StorageConfig, () => Promise<void>] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-scale-'))
  return [{ kind: 'sqlite', path: path.join(dir, 'plinth.db') }, async () => fs.rmSync(dir, { recursive: true, force: true })]
}

function pgCase(url: string): [StorageConfig, () => Promise<void>] {
  const schema = `scale_${process.pid}_${randomBytes(3).toString('hex')}`
  return [
    { kind: 'postgres', url, schema, poolSize: 2 },
    async () => {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await client.end()
    },
  ]
}

async function main() {
  const cases: [string, () => [StorageConfig, () => Promise<void>]][] = [['SQLite', sqliteCase]]
  if (process.env.TEST_PG_URL) cases.push(['PostgreSQL', () => pgCase(process.env.TEST_PG_URL!)])
  const lines: string[] = []
  lines.push(`Sizes at scale: ${large.files} files, ${large.completions} stored chat completions, a thread of ${large.messages} messages, ${large.batches} batches, ${large.usage} usage records (over 30 days); small: 1,000 of each. Median of ${repeats} runs, ms. Load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}.`)
  for (const [name, make] of cases) {
    const smallTiming = await measure(...make(), small)
    const largeTiming = await measure(...make(), large)
    lines.push('', `**${name}**`, '', '| operation | 1,000 objects, ms | at scale, ms | ratio | within 2x |', '|---|---|---|---|---|')
    for (const [op, t] of smallTiming) {
      const big = largeTiming.get(op)!
      const ratio = big / t
      lines.push(`| ${op} | ${t.toFixed(3)} | ${big.toFixed(3)} | ${ratio.toFixed(2)}x | ${ratio <= 2 ? 'yes' : '**no**'} |`)
    }
  }
  console.log(lines.join('\n'))
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
