// npm run bench:runs: the run engine's overhead. In one process, on test-echo: the time from
// create-run to a completed run (the job runner's path, and a streamed run), next to a plain chat
// completion of the same model in the same run, p50 and p95. Writes its section of
// docs/benchmarks.md.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'
import { createApp } from '../src/app.js'
import { parseConfig } from '../src/config/load.js'
import { createContext } from '../src/context.js'
import { writeBenchmarkSection } from './docs-section.js'

const KEY = 'sk-proj-bench-runs-000000000000000000000'
const SECTION = '## Assistant runs (`npm run bench:runs`)'
const N = Number(process.env.BENCH_RUNS ?? 200)

function pct(values: number[], p: number) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

async function measure(what: string, fn: () => Promise<unknown>) {
  for (let i = 0; i < 10; i++) await fn() // warm-up
  const ms: number[] = []
  for (let i = 0; i < N; i++) {
    const t0 = performance.now()
    await fn()
    ms.push(performance.now() - t0)
  }
  const row = { what, p50: pct(ms, 50), p95: pct(ms, 95) }
  console.error(`${what.padEnd(52)} p50 ${row.p50.toFixed(2)} ms  p95 ${row.p95.toFixed(2)} ms`)
  return row
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-bench-runs-'))
  const config = parseConfig({
    dataDir,
    bootstrap: { projectKey: KEY },
    testModels: { enabled: true },
  })
  const ctx = await createContext(config, { jobs: { runner: { pollIntervalMs: 50 } } })
  ctx.jobs.start()
  const app = createApp(ctx)
  const client = new OpenAI({
    apiKey: KEY,
    baseURL: 'http://plinth.bench/v1',
    fetch: ((input: RequestInfo | URL, init?: RequestInit) => app.request(input as never, init)) as typeof fetch,
    maxRetries: 0,
  })
  const content = 'Tell me about the weather in Paris in spring, briefly.'
  const assistant = await client.beta.assistants.create({ model: 'test-echo' })
  const rows = []
  rows.push(
    await measure('chat completion (test-echo)', () =>
      client.chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content }] }),
    ),
  )
  rows.push(
    await measure('run, job runner: create → completed (poll 1 ms)', async () => {
      const thread = await client.beta.threads.create({ messages: [{ role: 'user', content }] })
      const run = await client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id })
      await client.beta.threads.runs.poll(run.id, { thread_id: thread.id }, { pollIntervalMs: 1 })
    }),
  )
  rows.push(
    await measure('run, streamed: create → thread.run.completed', async () => {
      const thread = await client.beta.threads.create({ messages: [{ role: 'user', content }] })
      await client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id }).finalRun()
    }),
  )
  rows.push(
    await measure('thread create alone (part of both run rows)', () =>
      client.beta.threads.create({ messages: [{ role: 'user', content }] }),
    ),
  )
  await ctx.close()
  fs.rmSync(dataDir, { recursive: true, force: true })

  const lines = [
    SECTION,
    '',
    `${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores, Node ${process.version}, SQLite,`,
    `in-process (app.request, no sockets), ${N} iterations after 10 warm-up. A run is one`,
    'model turn on test-echo: the thread, the run row and its job, the step and message writes,',
    'and the status transitions. The job runner row includes the client polling (every 1 ms).',
    '',
    '| path | p50 ms | p95 ms |',
    '|---|---:|---:|',
    ...rows.map((r) => `| ${r.what} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} |`),
    '',
  ]
  const text = lines.join('\n')
  console.log(text)
  writeBenchmarkSection(SECTION, text)
}


main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
