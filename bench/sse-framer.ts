// npx tsx bench/sse-framer.ts: CPU per proxied stream of three ways to frame an upstream's SSE
// body into Plinth's (docs/benchmarks.md, "The stream framer"): Plinth's PassthroughFramer (plain
// runs renamed in bulk), eventsource-parser with each event renamed (ChunkRewriter.rewrite), and
// Plinth's full SseParser with each event renamed (what the framer falls back to). The stream is
// the gateway benchmark's (bench/upstream.ts: 16 events, 3 KB), arriving in one read or in reads
// of 97 bytes; Plinth's frames out must be the same text for all three.
import { createParser } from 'eventsource-parser'
import { ChunkRewriter, PassthroughFramer } from '../src/providers/openai-compatible/passthrough.js'
import { SseParser } from '../src/providers/openai-compatible/sse-parse.js'

const words = 'Hello from the benchmark upstream, a fixed answer of some length.'.split(' ')
const chunk = (delta: object, finish: string | null = null, usage: object | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'bench-model', choices: usage ? [] : [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...(usage ? { usage } : {}) })}\n\n`
const stream = Buffer.from(
  chunk({ role: 'assistant', content: '' }) +
    words.map((w, i) => chunk({ content: (i ? ' ' : '') + w })).join('') +
    chunk({}, 'stop') +
    chunk({}, null, { prompt_tokens: 12, completion_tokens: 14, total_tokens: 26 }) +
    'data: [DONE]\n\n',
)
const identity = { id: 'chatcmpl-plinth000000000000000000000', model: 'bench-model', object: 'chat.completion.chunk' } as const

/** Plinth's frame for one upstream event (as PassthroughFramer.frame). */
function frame(rewriter: ChunkRewriter, data: string): string {
  if (data === '[DONE]') return ''
  const text = rewriter.rewrite(data)
  return text === undefined ? '' : `data: ${text}\n\n`
}

const framers: Record<string, (reads: Buffer[]) => string> = {
  'PassthroughFramer (Plinth: plain runs renamed in bulk)': (reads) => {
    const framer = new PassthroughFramer('bench', new ChunkRewriter('bench', identity))
    let out = ''
    for (const read of reads) out += framer.push(read).out
    return out + framer.end().out
  },
  'eventsource-parser 4.1.3, each event renamed': (reads) => {
    const rewriter = new ChunkRewriter('bench', identity)
    const decoder = new TextDecoder()
    let out = ''
    const parser = createParser({ onEvent: (event) => (out += frame(rewriter, event.data)) })
    for (const read of reads) parser.feed(decoder.decode(read, { stream: true }))
    parser.feed(decoder.decode())
    return out
  },
  'SseParser (Plinth: full parser), each event renamed': (reads) => {
    const rewriter = new ChunkRewriter('bench', identity)
    const parser = new SseParser()
    let out = ''
    for (const read of reads) for (const message of parser.push(read)) out += frame(rewriter, message.data)
    for (const message of parser.end()) out += frame(rewriter, message.data)
    return out
  },
}

const splits: Record<string, Buffer[]> = { 'one read': [stream], 'reads of 97 bytes': [] }
for (let at = 0; at < stream.length; at += 97) splits['reads of 97 bytes'].push(stream.subarray(at, at + 97))

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]
const STREAMS = Number(process.env.STREAMS ?? 20_000)

const rows: string[] = []
for (const [split, reads] of Object.entries(splits)) {
  const expected = framers['PassthroughFramer (Plinth: plain runs renamed in bulk)'](reads)
  for (const [name, run] of Object.entries(framers)) {
    if (run(reads) !== expected) throw new Error(`${name} framed ${split} differently`)
    for (let i = 0; i < STREAMS; i++) run(reads)
    const rounds: number[] = []
    for (let round = 0; round < 7; round++) {
      const before = process.cpuUsage()
      for (let i = 0; i < STREAMS; i++) run(reads)
      const spent = process.cpuUsage(before)
      rounds.push((spent.user + spent.system) / STREAMS)
    }
    rows.push(`| ${name} | ${split} | ${median(rounds).toFixed(1)} |`)
  }
}
console.log(`${stream.length} bytes, 16 events per stream; CPU µs per stream, median of 7 rounds of ${STREAMS}\n`)
console.log('| framer | upstream reads | µs per stream |\n|---|---|---|\n' + rows.join('\n'))
