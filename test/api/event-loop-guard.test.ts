import { fork, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { percentile, type Stall } from '../helpers/event-loop-monitor.js'

// No request may hold the event loop for more than 50 ms, whatever its input, and a running batch
// leaves the API's latency within 2x of idle (docs/architecture.md, "The event loop"). The server
// is a child process (test/helpers/guarded-server.ts) that watches its own event loop; a stall
// counts as a block only for the time its main thread was not waiting for a CPU
// (test/helpers/event-loop-monitor.ts), so other test files running in parallel on a 2-core
// machine do not make this fail, while a request that computes for 50 ms does.

const BLOCK_MS = 50
const KEY = 'sk-proj-event-loop-guard-0000000000000'
const auth = { authorization: `Bearer ${KEY}` }
const report: string[] = []
let child: ChildProcess
let url: string
let dataDir: string

function message<T>(type: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { type: string }) => {
      if (m.type !== type) return
      child.off('message', on)
      resolve(m as T)
    }
    child.on('message', on)
  })
}

/** The longest hold of the thread in the stalls last taken (the monitor sees those over 20 ms). */
let longestHold = 0

/** The server's stalls since the last call that held its thread for more than BLOCK_MS. */
async function takeBlocks(): Promise<Stall[]> {
  const answer = message<{ stalls: Stall[] }>('stalls')
  child.send({ type: 'take' })
  const stalls = (await answer).stalls
  longestHold = Math.max(0, ...stalls.map((s) => s.blockedMs))
  return stalls.filter((s) => s.blockedMs > BLOCK_MS)
}

/** How close a case came to the bound, for the report: the margin CI has. */
const held = () => (longestHold > 0 ? `, longest hold ${longestHold.toFixed(1)} ms` : ', no stall over 20 ms')

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-guard-'))
  child = fork(path.resolve(import.meta.dirname, '../helpers/guarded-server.ts'), [], {
    execArgv: ['--import', 'tsx', ...(process.env.GUARD_TRACE_GC ? ['--trace-gc'] : []), ...(process.env.GUARD_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/el/cprof', '--cpu-prof-interval=250'] : [])],
    // the monitor notes stalls from 20 ms on, so the report shows each case's margin; only those over BLOCK_MS fail
    env: { GUARD_THRESHOLD_MS: '20', ...process.env, GUARD_DATA_DIR: dataDir, PLINTH_BOOTSTRAP_PROJECT_KEY: KEY, PLINTH_TEST_MODELS: '1', PLINTH_LOG_LEVEL: 'warn' },
    stdio: ['ignore', process.env.GUARD_TRACE_GC ? 'inherit' : 'ignore', 'inherit', 'ipc'],
  })
  url = (await message<{ url: string }>('ready')).url
  // a fresh process loads the tokenizer (170 ms) and compiles each schema's validator on its
  // first use: one-time costs of the process, not of a request
  await post('/v1/chat/completions', JSON.stringify({ model: 'test-echo', messages: [{ role: 'user', content: 'warm up' }] }))
  await post('/v1/completions', JSON.stringify({ model: 'test-echo', prompt: 'warm up' }))
  await post('/v1/embeddings', JSON.stringify({ model: 'test-embed', input: ['warm up', 'again'] }))
  await post('/v1/embeddings', JSON.stringify({ model: 'test-embed', input: [[1, 2], [3]], dimensions: 8 }))
  // the first image request loads sharp (libvips): a one-time synchronous module load of 40-130
  // ms (more under tsx's loader hooks), not work that grows with a request (docs/images.md)
  await post('/v1/images/generations', JSON.stringify({ prompt: 'warm up', n: 1, size: '256x256' }))
  await takeBlocks()
}, 60_000)

afterAll(async () => {
  console.log(['event-loop guard:', ...report].join('\n  '))
  if (child?.connected) {
    child.send({ type: 'exit' })
    await new Promise((resolve) => child.once('exit', resolve))
  }
  fs.rmSync(dataDir, { recursive: true, force: true })
})

/** Sends a body and reads the answer without parsing it; the status and the time it took. */
async function post(path: string, body: string | Buffer | FormData, contentType = 'application/json') {
  const started = performance.now()
  const headers: Record<string, string> = { ...auth }
  if (!(body instanceof FormData)) headers['content-type'] = contentType
  const response = await fetch(url + path, { method: 'POST', headers, body: body as BodyInit })
  let bytes = 0
  let head = ''
  for await (const chunk of response.body!) {
    if (head.length < 300) head += Buffer.from(chunk).toString('utf8', 0, 300)
    bytes += chunk.byteLength
  }
  return { status: response.status, ms: performance.now() - started, bytes, head }
}

/** GET /v1/models latencies, one request at a time, every `everyMs`, until `until` settles. */
async function cheapLatencies(until: Promise<unknown>, everyMs = 10): Promise<number[]> {
  let done = false
  void until.finally(() => (done = true))
  const latencies: number[] = []
  while (!done) {
    const started = performance.now()
    const response = await fetch(`${url}/v1/models`, { headers: auth })
    await response.arrayBuffer()
    latencies.push(performance.now() - started)
    await sleep(everyMs)
  }
  return latencies
}

async function expectNoBlock(label: string) {
  const blocks = await takeBlocks()
  if (report.at(-1)?.startsWith(label)) report[report.length - 1] += held()
  expect(blocks, `${label}: ${JSON.stringify(blocks)}`).toEqual([])
}

const words = (n: number) => 'hello' + ' hello'.repeat(n)
const chat = (content: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: 'test-echo', messages: [{ role: 'user', content }], ...extra })

describe('event-loop guard', () => {
  it.each([
    ['long whitespace', '/v1/chat/completions', () => chat('a' + ' '.repeat(128_000) + 'b'), [200]],
    ['long whitespace (legacy)', '/v1/completions', () => JSON.stringify({ model: 'test-echo', prompt: 'a' + ' '.repeat(400_000) + 'b', max_tokens: 50 }), [200]],
    ['a long single token', '/v1/chat/completions', () => chat('x'.repeat(1_000_000)), [400]],
    ['punctuation runs', '/v1/chat/completions', () => chat('!' + '/\n'.repeat(200_000)), [200, 400]],
    ['1 MB echo, n: 32, logprobs', '/v1/chat/completions', () => chat(words(175_000), { n: 32, logprobs: true, top_logprobs: 20 }), [400]],
    ['a legal large answer: n: 64 of 16k tokens', '/v1/chat/completions', () => chat(words(16_000), { n: 64 }), [200]],
    ['a legal answer with logprobs: n: 8 of 16k tokens', '/v1/chat/completions', () => chat(words(16_000), { n: 8, logprobs: true, top_logprobs: 5 }), [200]],
    ['a 30 MB string', '/v1/chat/completions', () => chat('x'.repeat(30_000_000)), [400]],
    ['deeply nested JSON', '/v1/chat/completions', () => '['.repeat(100_000) + ']'.repeat(100_000), [400]],
    ['5M empty objects', '/v1/chat/completions', () => `{"model":"test-echo","messages":[{"role":"user","content":[${'{},'.repeat(5_000_000)}{}]}]}`, [400]],
    ['300k negative token ids', '/v1/embeddings', () => JSON.stringify({ model: 'test-embed', input: Array(300_000).fill(-1) }), [400]],
    ['100k metadata keys', '/v1/chat/completions', () => `{"model":"test-echo","messages":[{"role":"user","content":"hi"}],"metadata":{${Array.from({ length: 100_000 }, (_, i) => `"k${i}":"v"`).join(',')}}}`, [400]],
    ['embeddings of 2048 inputs, 299k tokens', '/v1/embeddings', () => JSON.stringify({ model: 'test-embed', input: Array.from({ length: 2048 }, () => Array(146).fill(15339)), dimensions: 256 }), [200]],
    ['embeddings over 300k tokens', '/v1/embeddings', () => JSON.stringify({ model: 'test-embed', input: Array(2048).fill(words(199)) }), [400]],
  ] as const)('serves %s without blocking the event loop', async (label, path, body, statuses) => {
    const text = Buffer.from(body())
    await takeBlocks()
    const result = await post(path, text)
    report.push(`${label}: ${result.status} in ${result.ms.toFixed(0)} ms, ${result.bytes} bytes`)
    expect(statuses as readonly number[], `${label}: ${result.head}`).toContain(result.status)
    await expectNoBlock(label)
  })

  it('draws, edits and varies the largest image answers without blocking', async () => {
    // noise compresses badly: PNGs of a few MB, decoded and encoded by sharp
    const sharp = (await import('sharp')).default
    const noise = (size: number, seed: number) => {
      const pixels = Buffer.alloc(size * size * 4)
      let x = seed
      for (let i = 0; i < pixels.length; i++) pixels[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24
      return sharp(pixels, { raw: { width: size, height: size, channels: 4 } }).png().toBuffer()
    }
    const picture = await noise(1024, 1)
    const mask = await noise(1024, 2)
    const cases: [string, string, () => string | FormData][] = [
      ['gpt-image-1, n: 10 of 1536x1024, high', '/v1/images/generations', () => JSON.stringify({ model: 'gpt-image-1', prompt: words(5000), n: 10, size: '1536x1024', quality: 'high' })],
      ['dall-e-2, n: 10 URLs', '/v1/images/generations', () => JSON.stringify({ prompt: 'a lake', n: 10 })],
      ['an edit of 16 pictures with a mask, n: 10', '/v1/images/edits', () => {
        const form = new FormData()
        form.append('model', 'gpt-image-1')
        form.append('prompt', 'a boat')
        form.append('n', '10')
        form.append('size', '1024x1024')
        for (let i = 0; i < 16; i++) form.append('image[]', new Blob([picture], { type: 'image/png' }), `p${i}.png`)
        form.append('mask', new Blob([mask], { type: 'image/png' }), 'mask.png')
        return form
      }],
      ['variations, n: 10', '/v1/images/variations', () => {
        const form = new FormData()
        form.append('n', '10')
        form.append('response_format', 'b64_json')
        form.append('image', new Blob([picture], { type: 'image/png' }), 'p.png')
        return form
      }],
    ]
    for (const [label, path, body] of cases) {
      const sent = body()
      await takeBlocks()
      const result = await post(path, typeof sent === 'string' ? Buffer.from(sent) : sent)
      report.push(`${label}: ${result.status} in ${result.ms.toFixed(0)} ms, ${result.bytes} bytes`)
      expect(result.status, `${label}: ${result.head}`).toBe(200)
      await expectNoBlock(label)
    }
  }, 120_000)

  it('takes a large multipart upload without blocking', async () => {
    const form = new FormData()
    form.append('purpose', 'user_data')
    form.append('file', new Blob([Buffer.alloc(64 * 1024 * 1024, 'a')]), 'big.txt')
    await takeBlocks()
    const result = await post('/v1/files', form)
    report.push(`upload of 64 MB: ${result.status} in ${result.ms.toFixed(0)} ms`)
    expect(result.status).toBe(200)
    await expectNoBlock('upload')
  })

  /** One round: idle latencies, then latencies while a batch of `lines` 18 KB test-echo lines runs. */
  async function batchRound(round: number, lines: number) {
    const idle = await cheapLatencies(sleep(1500))
    const line = (i: number) =>
      JSON.stringify({ custom_id: `r${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'test-echo', messages: [{ role: 'user', content: `round ${round} line ${i} ` + 'lorem ipsum dolor sit amet '.repeat(670) }] } })
    const form = new FormData()
    form.append('purpose', 'batch')
    form.append('file', new Blob([Array.from({ length: lines }, (_, i) => line(i)).join('\n')]), 'batch.jsonl')
    const file = JSON.parse(await (await fetch(`${url}/v1/files`, { method: 'POST', headers: auth, body: form })).text()) as { id: string }
    await takeBlocks()
    const started = performance.now()
    const created = await fetch(`${url}/v1/batches`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }),
    })
    const batch = (await created.json()) as { id: string }
    const finished = (async () => {
      for (;;) {
        const state = (await (await fetch(`${url}/v1/batches/${batch.id}`, { headers: auth })).json()) as { status: string }
        if (['completed', 'failed', 'expired', 'cancelled'].includes(state.status)) return state
        await sleep(50)
      }
    })()
    const during = await cheapLatencies(finished)
    const { status } = await finished
    const ms = performance.now() - started
    const blocks = await takeBlocks()
    const idleP99 = percentile(idle, 99)
    const duringP99 = percentile(during, 99)
    report.push(
      `batch of ${lines} × 18 KB (round ${round}): ${status} in ${ms.toFixed(0)} ms; GET /v1/models p50/p99 idle ${percentile(idle, 50).toFixed(1)}/${idleP99.toFixed(1)} ms, during ${percentile(during, 50).toFixed(1)}/${duringP99.toFixed(1)} ms (${during.length} requests)`,
    )
    return { status, blocks, idleP99, duringP99 }
  }

  it('keeps the API p99 within 2x of idle while a heavy batch runs', async () => {
    // 500 test-echo lines of about 18 KB each used to hold GET /v1/models 3.3 s. Latency on a
    // shared 2-core machine is noisy (the client, the server and other processes take turns on
    // the cores: with GUARD_THRESHOLD_MS=8 the server shows no stall of its own over 8 ms while
    // its p99 still moves by 10 ms), so the comparison has an allowance of 5 ms and up to three
    // rounds; a batch that blocks the loop misses every one by hundreds of ms. Blocks over 50 ms
    // fail at once, in any round.
    for (let round = 1; ; round++) {
      const { status, blocks, idleP99, duringP99 } = await batchRound(round, 500)
      expect(status).toBe('completed')
      expect(blocks, JSON.stringify(blocks)).toEqual([])
      if (duringP99 <= 2 * idleP99 + 5 || round === 3) {
        expect(duringP99).toBeLessThanOrEqual(2 * idleP99 + 5)
        return
      }
    }
  })
})
