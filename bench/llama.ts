// npm run bench:llama: tokens/s of a local GGUF through Plinth's HTTP API against node-llama-cpp
// called directly, in the same run, with the same model and settings. Each measure is taken on
// both sides back to back, in an order that alternates, so that load from other processes hits
// both alike; medians are reported.
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { getLlama, LlamaLogLevel, type LlamaModel, type Token } from 'node-llama-cpp'

const root = path.resolve(import.meta.dirname, '..')
const MODEL_FILE =
  process.env.BENCH_MODEL ?? path.resolve(root, '../shared/models/stories260K.gguf')
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const GEN_TOKENS = Number(process.env.BENCH_TOKENS ?? 256)
const SETTINGS = {
  threads: Number(process.env.BENCH_THREADS ?? 1),
  contextSize: 2048,
  sequences: 4,
}
const KEY = 'sk-proj-bench-000000000000000000000000'
const SAMPLING = { temperature: 0, topK: 0, topP: 1, minP: 0 } // what Plinth sets for temperature 0
const LONG =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. '.repeat(
    40,
  )

/** One generation: when it started, when each token (or chunk) arrived, how many tokens. */
type Run = { start: number; times: number[]; promptTokens: number; tokens: number }

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const genRate = (r: Run) => (r.tokens - 1) / ((r.times[r.times.length - 1] - r.times[0]) / 1000)
const ttft = (r: Run) => r.times[0] - r.start
const aggregate = (runs: Run[]) =>
  runs.reduce((s, r) => s + r.tokens, 0) /
  ((Math.max(...runs.map((r) => r.times[r.times.length - 1])) -
    Math.min(...runs.map((r) => r.start))) /
    1000)

// --- node-llama-cpp directly ---
async function direct() {
  const llama = await getLlama({
    gpu: false,
    build: 'never',
    skipDownload: true,
    logLevel: LlamaLogLevel.error,
  })
  const model = await llama.loadModel({ modelPath: MODEL_FILE })
  const context = await model.createContext(SETTINGS)
  const sequences = Array.from({ length: SETTINGS.sequences }, () => context.getSequence())
  return {
    async run(prompt: string, maxTokens: number, sequence = sequences[0]): Promise<Run> {
      await sequence.clearHistory()
      const tokens = promptTokens(model, prompt)
      const start = performance.now()
      const times: number[] = []
      const out: Token[] = []
      for await (const token of sequence.evaluate(tokens, SAMPLING)) {
        out.push(token)
        model.detokenize([token], false, out.slice(-5, -1)) // a client wants text, as Plinth sends
        times.push(performance.now())
        if (out.length >= maxTokens) break
      }
      return { start, times, promptTokens: tokens.length, tokens: out.length }
    },
    parallel(prompt: string, maxTokens: number) {
      return Promise.all(sequences.map((s) => this.run(prompt, maxTokens, s)))
    },
    close: () => llama.dispose(),
  }
}

function promptTokens(model: LlamaModel, prompt: string): Token[] {
  return [model.tokens.bos!, ...model.tokenize(prompt, true)]
}

// --- Plinth over HTTP, streamed ---
const children: ChildProcess[] = []

let serverPid = 0

/** CPU time (ms) a process has used, from /proc: the server's main thread and llama.cpp's alike. */
function processCpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 // utime + stime, in 100 Hz ticks
}

const ownCpuMs = () => {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1000
}

async function startPlinth(): Promise<string> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-bench-llama-'))
  process.on('exit', () => fs.rmSync(dataDir, { recursive: true, force: true }))
  const config = path.join(dataDir, 'plinth.json')
  fs.writeFileSync(
    config,
    JSON.stringify({
      server: { port: 0 },
      log: { level: 'warn' },
      testModels: { enabled: false },
      models: [{ id: 'bench', provider: 'llama-cpp', options: { path: MODEL_FILE, ...SETTINGS } }],
    }),
  )
  // from the sources (as the CLI tests run it), so the benchmark needs no build; with tsx as a
  // loader rather than its CLI, the server is this child itself and its CPU can be read
  const cli = ['--import', 'tsx', path.join(root, 'test/cli/run-cli.ts')]
  const child = spawn(
    process.execPath,
    [...cli, 'serve', '--config', config, '--data-dir', dataDir],
    {
      cwd: root,
      env: { ...process.env, PLINTH_BOOTSTRAP_PROJECT_KEY: KEY, PLINTH_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  children.push(child)
  serverPid = child.pid!
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d
      const m = /ready on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (m) resolve(m[1])
    })
    child.on('exit', (code) => reject(new Error(`plinth exited with ${code}: ${out}`)))
  })
}

// one keep-alive connection per concurrent stream, as an SDK's pool would keep
const agent = new http.Agent({ keepAlive: true, maxSockets: SETTINGS.sequences })

/**
 * One streamed completion through Plinth's HTTP API, read by a lean client: node:http, the body
 * split into SSE events on blank lines, the time of each event that carries text noted, and only
 * the final usage event parsed as JSON. (A client that parsed every chunk would take CPU from
 * the model on a 2-core machine, and charge it to Plinth.)
 */
function viaPlinth(
  url: string,
  prompt: string,
  maxTokens: number,
  chat?: { responseFormat?: unknown },
): Promise<Run> {
  const body = JSON.stringify({
    model: 'bench',
    ...(chat
      ? {
          messages: [{ role: 'user', content: prompt }],
          ...(chat.responseFormat ? { response_format: chat.responseFormat } : {}),
        }
      : { prompt }),
    max_tokens: maxTokens,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
  })
  return new Promise((resolve, reject) => {
    const start = performance.now()
    const req = http.request(
      `${url}/v1/${chat ? 'chat/completions' : 'completions'}`,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${KEY}`,
        },
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume()
          reject(new Error(`plinth answered ${res.statusCode}`))
          return
        }
        const times: number[] = []
        let usage: { prompt_tokens: number; completion_tokens: number } | undefined
        let done = false
        let rest = ''
        res.setEncoding('utf8')
        res.on('data', (text: string) => {
          const now = performance.now()
          let buffer = rest + text
          let at: number
          while ((at = buffer.indexOf('\n\n')) >= 0) {
            const event = buffer.slice(0, at)
            buffer = buffer.slice(at + 2)
            if (event === 'data: [DONE]') done = true
            else if (event.includes('"usage":{')) usage = JSON.parse(event.slice(6)).usage
            else if (!event.includes('"text":""') && !event.includes('"content":""'))
              times.push(now)
          }
          rest = buffer
        })
        res.on('end', () => {
          if (!usage || !done) reject(new Error('the stream ended without usage and [DONE]'))
          else
            resolve({
              start,
              times,
              promptTokens: usage.prompt_tokens,
              tokens: usage.completion_tokens,
            })
        })
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

async function main() {
  if (!fs.existsSync(MODEL_FILE)) throw new Error(`no model at ${MODEL_FILE} (set BENCH_MODEL)`)
  const url = await startPlinth()
  const d = await direct()
  const p = {
    run: (prompt: string, max: number) => viaPlinth(url, prompt, max),
    parallel: (prompt: string, max: number) =>
      Promise.all(Array.from({ length: SETTINGS.sequences }, () => viaPlinth(url, prompt, max))),
  }
  // warm both (the first request loads the model into Plinth)
  for (let i = 0; i < 3; i++) {
    await d.run('Once upon a time', 32)
    await p.run('Once upon a time', 32)
  }
  const series = () => ({ d: [] as number[], p: [] as number[] })
  const results = {
    gen: series(),
    prefill: series(),
    ttft: series(),
    par: series(),
    promptTokens: series(),
    cpu: series(),
    clientCpu: series(),
  }
  let n = 0
  const sides = { d, p }
  const loads: number[] = []
  const grammar = await grammarCost(url)
  for (let round = 0; round < (process.env.BENCH_ONLY === 'grammar' ? 0 : ROUNDS); round++) {
    // each measure is taken on both sides back to back, in an order that flips every round, so
    // that a change in the machine's other load between the two is as small as it can be
    const order = round % 2 ? (['p', 'd'] as const) : (['d', 'p'] as const)
    for (const who of order) {
      const target = sides[who]
      // CPU per generated token, which the machine's other load disturbs far less than time
      const cpu0 = who === 'd' ? ownCpuMs() : processCpuMs(serverPid)
      const client0 = ownCpuMs()
      const gen = await target.run('Once upon a time', GEN_TOKENS)
      results.gen[who].push(genRate(gen))
      results.cpu[who].push(
        (((who === 'd' ? ownCpuMs() : processCpuMs(serverPid)) - cpu0) * 1000) / gen.tokens,
      )
      if (who === 'p') results.clientCpu.p.push(((ownCpuMs() - client0) * 1000) / gen.tokens)
    }
    for (const who of order) {
      // a different first word each time: no cached prefix helps either side
      const long = await sides[who].run(`Story ${n++}. ${LONG}`, 1)
      results.prefill[who].push(long.promptTokens / (ttft(long) / 1000))
      results.promptTokens[who].push(long.promptTokens)
    }
    for (const who of order) {
      for (let i = 0; i < 10; i++)
        results.ttft[who].push(ttft(await sides[who].run(`Tale ${n++}: once upon a time`, 1)))
    }
    // the concurrent streams, the noisiest measure, three times a round
    for (let i = 0; i < 3; i++) {
      for (const who of i % 2 ? [...order].reverse() : order)
        results.par[who].push(aggregate(await sides[who].parallel('Once upon a time', GEN_TOKENS)))
    }
    loads.push(os.loadavg()[0])
    console.error(
      `round ${round + 1}/${ROUNDS}: gen ${median(results.gen.p).toFixed(0)}/${median(results.gen.d).toFixed(0)} tok/s, 4 streams ${median(results.par.p).toFixed(0)}/${median(results.par.d).toFixed(0)} tok/s (plinth/direct), load ${os.loadavg()[0].toFixed(2)}`,
    )
  }
  for (const child of children) child.kill('SIGTERM')
  agent.destroy()
  await d.close()
  if (process.env.BENCH_ONLY !== 'grammar') report(results, loads)
  console.log(grammar)
}

/** A schema whose answer runs past max_tokens: strings, bounded integers, a format, an array. */
const BENCH_SCHEMA = {
  type: 'object',
  properties: {
    people: {
      type: 'array',
      minItems: 100,
      items: {
        type: 'object',
        properties: {
          name: { type: 'string', maxLength: 12 },
          age: { type: 'integer', minimum: 0, maximum: 120 },
          born: { type: 'string', format: 'date' },
          score: { type: 'number', minimum: 0, maximum: 1 },
        },
        required: ['name', 'age', 'born', 'score'],
        additionalProperties: false,
      },
    },
  },
  required: ['people'],
  additionalProperties: false,
}

/**
 * The grammar's cost: tokens/s of one chat stream with and without a json_schema
 * response_format, same prompt, taken back to back in alternating order; medians.
 */
async function grammarCost(url: string): Promise<string> {
  const format = {
    type: 'json_schema',
    json_schema: { name: 'people', strict: true, schema: BENCH_SCHEMA },
  }
  const rates = { plain: [] as number[], schema: [] as number[] }
  const tokens = { plain: [] as number[], schema: [] as number[] }
  const max = Math.min(GEN_TOKENS, 256)
  for (let round = 0; round < ROUNDS * 2; round++) {
    const order = round % 2 ? (['schema', 'plain'] as const) : (['plain', 'schema'] as const)
    for (const kind of order) {
      const run = await viaPlinth(url, LONG, max, {
        responseFormat: kind === 'schema' ? format : undefined,
      })
      rates[kind].push(genRate(run))
      tokens[kind].push(run.tokens)
    }
  }
  const plain = median(rates.plain)
  const schema = median(rates.schema)
  return [
    '',
    `Grammar cost (chat, 1 stream, temperature 0, max_tokens ${max}, ${ROUNDS * 2} runs each, medians):`,
    '',
    '| measure | without schema | with json_schema | ratio | target |',
    '|---|---|---|---|---|',
    `| generation | ${plain.toFixed(0)} tok/s (${median(tokens.plain)} tokens) | ${schema.toFixed(0)} tok/s (${median(tokens.schema)} tokens) | ${(schema / plain).toFixed(2)}x | >= 0.80x |`,
  ].join('\n')
}

function report(
  r: Record<
    'gen' | 'prefill' | 'ttft' | 'par' | 'promptTokens' | 'cpu' | 'clientCpu',
    { d: number[]; p: number[] }
  >,
  loads: number[],
) {
  const m = (k: keyof typeof r, who: 'd' | 'p') => median(r[k][who])
  const lines = [
    `Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), load ${Math.min(...loads).toFixed(2)}-${Math.max(...loads).toFixed(2)} during the run (1-minute average, after each round), Node ${process.version}`,
    `Model: ${path.basename(MODEL_FILE)}; threads ${SETTINGS.threads}, contextSize ${SETTINGS.contextSize}, ${SETTINGS.sequences} sequences, temperature 0; ${ROUNDS} rounds (concurrent streams 3 times a round), medians`,
    '',
    '| measure | node-llama-cpp direct | Plinth over HTTP | ratio / added | target |',
    '|---|---|---|---|---|',
    `| generation, 1 stream (${GEN_TOKENS} tokens) | ${m('gen', 'd').toFixed(0)} tok/s | ${m('gen', 'p').toFixed(0)} tok/s | ${(m('gen', 'p') / m('gen', 'd')).toFixed(2)}x | >= 0.90x |`,
    `| generation, 4 concurrent streams (aggregate) | ${m('par', 'd').toFixed(0)} tok/s | ${m('par', 'p').toFixed(0)} tok/s | ${(m('par', 'p') / m('par', 'd')).toFixed(2)}x | >= 0.90x |`,
    `| prefill (${m('promptTokens', 'p')}-token prompt) | ${m('prefill', 'd').toFixed(0)} tok/s | ${m('prefill', 'p').toFixed(0)} tok/s | ${(m('prefill', 'p') / m('prefill', 'd')).toFixed(2)}x | |`,
    `| CPU per generated token, 1 stream | ${m('cpu', 'd').toFixed(0)} µs | ${m('cpu', 'p').toFixed(0)} µs (+ client ${m('clientCpu', 'p').toFixed(0)} µs) | ${(m('cpu', 'p') / m('cpu', 'd')).toFixed(2)}x | |`,
    `| time to first token (short prompt) | ${m('ttft', 'd').toFixed(2)} ms | ${m('ttft', 'p').toFixed(2)} ms | +${(m('ttft', 'p') - m('ttft', 'd')).toFixed(2)} ms | <= +5 ms |`,
  ]
  console.log(lines.join('\n'))
}

main().catch((error) => {
  for (const child of children) child.kill('SIGKILL')
  console.error(error)
  process.exitCode = 1
})
