// A fast fake OpenAI upstream for the gateway benchmark: fixed answers, no per-request work
// beyond reading the body, so the numbers measure the gateway in front of it.
import http from 'node:http'

const completion = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'bench-model',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the benchmark upstream, a fixed answer of some length.', refusal: null }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 14, total_tokens: 26 },
})
const words = 'Hello from the benchmark upstream, a fixed answer of some length.'.split(' ')
const chunk = (delta: object, finish: string | null = null, usage: object | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'bench-model', choices: usage ? [] : [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...(usage ? { usage } : {}) })}\n\n`
const stream =
  chunk({ role: 'assistant', content: '' }) +
  words.map((w, i) => chunk({ content: (i ? ' ' : '') + w })).join('') +
  chunk({}, 'stop') +
  chunk({}, null, { prompt_tokens: 12, completion_tokens: 14, total_tokens: 26 }) +
  'data: [DONE]\n\n'

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const streamed = Buffer.concat(chunks).includes('"stream":true')
    if (streamed) {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.end(stream)
    } else {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(completion)
    }
  })
})
server.keepAliveTimeout = 65_000
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${(server.address() as { port: number }).port}\n`)
})
