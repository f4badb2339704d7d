// A 10,000-line batch against the built-in test model, through a real Plinth over HTTP with the
// official SDK: how many lines per second a batch runs (target: at least 500/s). Run by
// `npm run bench:files` after the file transfers, or alone with `tsx bench/batches.ts`.
// Writes its section of docs/benchmarks.md. BENCH_BATCH_LINES changes the size.
import { spawn, type ChildProcess } from 'node:child_process'
import fsp from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import OpenAI, { toFile } from 'openai'
import { writeBenchmarkSection } from './docs-section.js'

const root = path.resolve(import.meta.dirname, '..')
const KEY = 'sk-proj-bench-batches-000000000000000000'
const SECTION = '## Batches (`npm run bench:files`)'
const TARGET = 500

type Run = { model: string; endpoint: string; lines: number; concurrency: number; phases: Phases }
type Phases = { upload: number; validate: number; run: number; finalize: number; download: number }

function startPlinth(
  dataDir: string,
  concurrency: number,
): Promise<ChildProcess & { url: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/cli/run-cli.ts', 'serve', '--port', '0', '--data-dir', dataDir],
    {
      cwd: root,
      env: {
        ...process.env,
        PLINTH_BOOTSTRAP_PROJECT_KEY: KEY,
        PLINTH_LOG_LEVEL: 'info',
        PLINTH_BATCH_CONCURRENCY: String(concurrency),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const match = /Plinth ready on (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(out)
      if (match) resolve(Object.assign(child, { url: match[1] }))
    })
    child.on('exit', (code) => reject(new Error(`plinth exited with ${code}: ${out}`)))
  })
}

function inputLines(lines: number, endpoint: string, model: string): string {
  const out: string[] = []
  for (let i = 0; i < lines; i++) {
    const text = `Batch benchmark request number ${i}: please repeat this sentence back.`
    const body =
      endpoint === '/v1/embeddings'
        ? { model, input: text, dimensions: 64 }
        : { model, messages: [{ role: 'user', content: text }], max_tokens: 32 }
    out.push(JSON.stringify({ custom_id: `req-${i}`, method: 'POST', url: endpoint, body }))
  }
  return out.join('\n') + '\n'
}

async function benchOne(
  dir: string,
  endpoint: '/v1/chat/completions' | '/v1/embeddings',
  model: string,
  lines: number,
  concurrency: number,
): Promise<Run> {
  const server = await startPlinth(path.join(dir, `data-${model}-${concurrency}`), concurrency)
  try {
    const client = new OpenAI({ apiKey: KEY, baseURL: `${server.url}/v1`, maxRetries: 0 })
    const t0 = performance.now()
    const file = await client.files.create({
      file: await toFile(Buffer.from(inputLines(lines, endpoint, model)), 'bench.jsonl'),
      purpose: 'batch',
    })
    const t1 = performance.now()
    const batch = await client.batches.create({
      input_file_id: file.id,
      endpoint,
      completion_window: '24h',
    })
    // the phases as a client sees them, polling every 20 ms
    const seen: Record<string, number> = {}
    let done = batch
    for (;;) {
      done = await client.batches.retrieve(batch.id)
      seen[done.status] ??= performance.now()
      if (['completed', 'failed', 'expired', 'cancelled'].includes(done.status)) break
      await new Promise((r) => setTimeout(r, 20))
    }
    if (done.status !== 'completed' || done.request_counts!.completed !== lines)
      throw new Error(`batch ended ${done.status}: ${JSON.stringify(done.request_counts)}`)
    const ran = seen.finalizing ?? seen.completed
    const t2 = performance.now()
    const text = await (await client.files.content(done.output_file_id!)).text()
    const ids = new Set(
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).custom_id),
    )
    if (ids.size !== lines) throw new Error(`output has ${ids.size} distinct custom_ids`)
    const phases = {
      upload: (t1 - t0) / 1000,
      validate: ((seen.in_progress ?? ran) - t1) / 1000,
      run: (ran - (seen.in_progress ?? t1)) / 1000,
      finalize: (seen.completed - ran) / 1000,
      download: (performance.now() - t2) / 1000,
    }
    const run = { model, endpoint, lines, concurrency, phases }
    console.error(
      `${model.padEnd(10)} concurrency ${String(concurrency).padStart(2)}: ${rate(run).toFixed(0)} lines/s ` +
        `(validate ${phases.validate.toFixed(2)} s, run ${phases.run.toFixed(2)} s, finalize ${phases.finalize.toFixed(2)} s)`,
    )
    return run
  } finally {
    server.kill('SIGTERM')
  }
}

/** Lines per second from create to completed (validation, every line, the output file). */
function rate(run: Run): number {
  const { validate, run: running, finalize } = run.phases
  return run.lines / (validate + running + finalize)
}

export async function benchBatches() {
  const lines = Number(process.env.BENCH_BATCH_LINES ?? 10_000)
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'plinth-bench-batches-'))
  try {
    const runs = [
      await benchOne(dir, '/v1/chat/completions', 'test-echo', lines, 4),
      await benchOne(dir, '/v1/chat/completions', 'test-echo', lines, 16),
      await benchOne(dir, '/v1/embeddings', 'test-embed', lines, 4),
    ]
    report(runs)
  } finally {
    await fsp.rm(dir, { recursive: true, force: true })
  }
}

function report(runs: Run[]) {
  const s = (n: number) => n.toFixed(2)
  const lines = [
    SECTION,
    '',
    `Run ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), ` +
      `Node ${process.version}, SQLite; ${runs[0].lines.toLocaleString('en')} lines per batch against a built-in test ` +
      'model, through a real server (run from the sources with tsx) and the official SDK on the same machine. ' +
      'The client polls the batch every 20 ms to time its phases. `concurrency` is `batches.concurrency`, the ' +
      'lines of one batch in flight at once (default 4).',
    '',
    '| model | endpoint | concurrency | validate s | run s | finalize s | **lines/s** | target |',
    '|---|---|---:|---:|---:|---:|---:|---|',
    ...runs.map(
      (r) =>
        `| ${r.model} | ${r.endpoint} | ${r.concurrency} | ${s(r.phases.validate)} | ${s(r.phases.run)} | ` +
        `${s(r.phases.finalize)} | **${rate(r).toFixed(0)}** | ${rate(r) >= TARGET ? 'met' : 'MISSED'} (≥ ${TARGET}) |`,
    ),
    '',
    'lines/s counts from `batches.create` to `completed`: validating the input file (each line parsed and ' +
      'stored in the per-line ledger), running every line through the same service as the live endpoint ' +
      '(schema validation, the model, a usage record), writing results in transactions of up to 100 lines, and ' +
      'building the output file. Upload and download are not counted. The test models answer at once, so ' +
      'these numbers are the overhead Plinth adds per line; with a real model the model is the limit.',
    '',
  ]
  const text = lines.join('\n')
  console.log(text)
  writeBenchmarkSection(SECTION, text)
}


if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  benchBatches().catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
}
