import net from 'node:net'
import { PROJECT_KEY } from '../helpers/test-context.js'
import { TIMEOUT_MS, type Answer } from './judge.js'

/**
 * Requests that are broken below the API: bytes Node's HTTP parser refuses, or targets no
 * router can take. They are written on a raw socket (no client library would send them) to the
 * server production runs, and must get OpenAI's error body like any other 4xx.
 */
export type RawCase = { what: string; bytes: string }

const chat = '{"model":"test-echo","messages":[{"role":"user","content":"hi"}]}'
const auth = `Authorization: Bearer ${PROJECT_KEY}\r\n`
// every request asks to close, so that the answer ends with the connection
const head = (line: string, headers = '') => `${line}\r\nHost: plinth.test\r\nConnection: close\r\n${headers}`

export const RAW_CASES: RawCase[] = [
  { what: 'a malformed chunk size', bytes: `${head('POST /v1/chat/completions HTTP/1.1', auth)}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${chat}\r\n0\r\n\r\n` },
  { what: 'a chunk longer than announced', bytes: `${head('POST /v1/embeddings HTTP/1.1', auth)}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n${chat}\r\n0\r\n\r\n` },
  { what: 'Content-Length and Transfer-Encoding', bytes: `${head('POST /v1/completions HTTP/1.1', auth)}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n` },
  { what: 'a Content-Length that is no number', bytes: `${head('POST /v1/chat/completions HTTP/1.1', auth)}Content-Length: abc\r\n\r\n` },
  { what: 'two different Content-Lengths', bytes: `${head('POST /v1/chat/completions HTTP/1.1', auth)}Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}` },
  { what: 'a 20 KB header', bytes: `${head('GET /v1/models HTTP/1.1', auth)}X-Big: ${'a'.repeat(20_000)}\r\n\r\n` },
  { what: 'a control character in a header', bytes: `${head('GET /v1/models HTTP/1.1', auth)}X-Bad: a\x01b\r\n\r\n` },
  { what: 'a header without a colon', bytes: `${head('GET /v1/models HTTP/1.1', auth)}NoColonHere\r\n\r\n` },
  { what: 'a request line of garbage', bytes: 'GARBAGE\r\n\r\n' },
  { what: 'an unknown HTTP version', bytes: `${head('GET /v1/models HTTP/9.9', auth)}\r\n` },
  { what: 'a space in the path', bytes: `${head('GET /v1/mo dels HTTP/1.1', auth)}\r\n` },
  { what: 'a path without its slash', bytes: `${head('GET v1/models HTTP/1.1', auth)}\r\n` },
  { what: 'raw bytes over 0x7f in the path', bytes: `${head('GET /v1/models/\xff\xfe HTTP/1.1', auth)}\r\n` },
  { what: 'a backslash in the path', bytes: `${head('GET /v1\\models HTTP/1.1', auth)}\r\n` },
  { what: 'an unknown method', bytes: `${head('FOO /v1/models HTTP/1.1', auth)}\r\n` },
  { what: 'OPTIONS *', bytes: `${head('OPTIONS * HTTP/1.1')}\r\n` },
  { what: 'HTTP/1.1 without Host', bytes: `GET /v1/models HTTP/1.1\r\nConnection: close\r\n${auth}\r\n` },
  { what: 'POST without Host', bytes: `POST /v1/chat/completions HTTP/1.1\r\nConnection: close\r\n${auth}Content-Type: application/json\r\nContent-Length: ${chat.length}\r\n\r\n${chat}` },
  { what: 'HTTP/1.0 without Host', bytes: `GET /v1/models HTTP/1.0\r\n${auth}\r\n` },
  { what: 'a Host that is no host name', bytes: `GET /v1/models HTTP/1.1\r\nHost: a b/c\r\nConnection: close\r\n${auth}\r\n` },
  { what: 'an absolute URL to another host', bytes: `${head('GET http://evil.example/v1/models HTTP/1.1', auth)}\r\n` },
  { what: 'PUT, which no route has', bytes: `${head('PUT /v1/models HTTP/1.1', auth)}Content-Length: 0\r\n\r\n` },
  { what: 'a body shorter than its Content-Length, then the end', bytes: `${head('POST /v1/chat/completions HTTP/1.1', auth)}Content-Type: application/json\r\nContent-Length: 500\r\n\r\n${chat}` },
]

/** Writes the bytes, half-closes, and reads the answer until the server closes. */
export function sendRaw(baseUrl: string, bytes: string): Promise<Answer> {
  const url = new URL(baseUrl)
  const started = performance.now()
  return new Promise((resolve) => {
    const socket = net.connect(Number(url.port), url.hostname)
    const chunks: Buffer[] = []
    let done = false
    const finish = (answer: Answer) => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      resolve(answer)
    }
    const timer = setTimeout(() => finish({ hang: true, ms: performance.now() - started }), TIMEOUT_MS)
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('close', () => finish(parse(Buffer.concat(chunks), performance.now() - started)))
    socket.on('error', () => {})
    socket.end(Buffer.from(bytes, 'latin1'))
  })
}

function parse(raw: Buffer, ms: number): Answer {
  const text = raw.toString('latin1')
  const end = text.indexOf('\r\n\r\n')
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0)
  if (!status || end < 0) return { status: 0, contentType: '', text: `no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`, ms }
  const headers = text.slice(0, end).toLowerCase()
  let body = raw.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'))
  if (/\r\ntransfer-encoding: chunked/.test(headers)) body = dechunk(body)
  const contentType = /\r\ncontent-type: ([^\r]*)/.exec(headers)?.[1] ?? ''
  return { status, contentType, text: body.toString('utf8'), ms }
}

function dechunk(body: Buffer): Buffer {
  const out: Buffer[] = []
  let at = 0
  for (;;) {
    const line = body.indexOf('\r\n', at)
    if (line < 0) break
    const size = parseInt(body.subarray(at, line).toString('latin1'), 16)
    if (!size) break
    out.push(body.subarray(line + 2, line + 2 + size))
    at = line + 2 + size + 2
  }
  return Buffer.concat(out)
}
