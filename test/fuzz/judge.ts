import http from 'node:http'
import { validateError } from '../helpers/spec.js'
import type { FuzzCase, FuzzOperation } from './cases.js'

/** How a fuzz case is sent: into Hono's app.request, or over a socket to the production listener. */
export type Transport = 'in-process' | 'http'

/** Every answer must arrive within this (FUZZ_TIMEOUT_MS): a later one is a hang. */
export const TIMEOUT_MS = Number(process.env.FUZZ_TIMEOUT_MS ?? 5_000)

export type Answer = { status: number; contentType: string; text: string; ms: number } | { hang: true; ms: number }

/** In process: `fetch` is the app's (validating) request function. */
export async function sendInProcess(fetchIn: typeof fetch, c: FuzzCase): Promise<Answer> {
  const started = performance.now()
  const work = (async () => {
    const res = await fetchIn(`http://plinth.test${c.url}`, { method: c.method, headers: c.headers, body: c.body as BodyInit | undefined })
    const text = await res.text()
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, ms: performance.now() - started }
  })()
  return Promise.race([work, deadline(started)])
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })

/** Over HTTP with node:http: the path goes out byte for byte, and no header is added but Host and Content-Length. */
export function sendHttp(baseUrl: string, c: FuzzCase): Promise<Answer> {
  const started = performance.now()
  const url = new URL(baseUrl)
  const body = c.body === undefined ? undefined : typeof c.body === 'string' ? Buffer.from(c.body) : Buffer.from(c.body)
  const work = new Promise<Answer>((resolve) => {
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: c.method,
        path: c.url,
        headers: { ...c.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }))
        res.on('error', () => resolve({ status: 0, contentType: '', text: 'the response broke off', ms: performance.now() - started }))
      },
    )
    req.setTimeout(TIMEOUT_MS + 1_000, () => req.destroy())
    req.on('error', (error) => resolve({ status: 0, contentType: '', text: `the connection failed: ${error.message}`, ms: performance.now() - started }))
    req.end(body)
  })
  return Promise.race([work, deadline(started)])
}

export function closeAgent() {
  agent.destroy()
}

function deadline(started: number): Promise<Answer> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ hang: true, ms: performance.now() - started }), TIMEOUT_MS)
    timer.unref()
  })
}

/** What is wrong with an answer: a server error, a hang, an error body not OpenAI's, a status OpenAI never sends. */
export type FindingClass = '5xx' | 'hang' | 'unshaped 4xx' | 'wrong status' | 'accepted' | 'no answer'

export type Finding = { class: FindingClass; detail: string }

/** The 4xx statuses OpenAI answers with (errors.md); anything else (405, 415, 422...) is a mistake. */
const OPENAI_4XX = new Set([400, 401, 403, 404, 409, 413, 429])

export function judge(op: FuzzOperation, c: FuzzCase, answer: Answer): Finding | undefined {
  if ('hang' in answer) return { class: 'hang', detail: `no answer within ${TIMEOUT_MS} ms` }
  const { status, text } = answer
  if (status === 0) return { class: 'no answer', detail: text }
  const notBuilt = !op.served && status === 501
  if (status >= 500 && !notBuilt) return { class: '5xx', detail: `${status} ${excerpt(text)}` }
  if (status >= 400) {
    const shape = errorShape(answer)
    if (shape) return { class: 'unshaped 4xx', detail: `${status}: ${shape}` }
    if (notBuilt && JSON.parse(text).error.code !== 'not_implemented') return { class: 'unshaped 4xx', detail: `501 without code not_implemented: ${excerpt(text)}` }
    if (!notBuilt && !OPENAI_4XX.has(status)) return { class: 'wrong status', detail: `${status} ${excerpt(text)}` }
    return undefined
  }
  if (status < 200 || status >= 300) return { class: 'wrong status', detail: `${status} ${excerpt(text)}` }
  // a raw `..` may lead to another route, where a 2xx is fine
  if (!op.served && !c.raw) return { class: 'wrong status', detail: `${status} from an operation that is not built` }
  if (c.mustReject && !c.raw) return { class: 'accepted', detail: `${status} ${excerpt(text)}` }
  return undefined
}

export function errorShape(answer: { contentType: string; text: string }): string | undefined {
  if (!/^application\/json\b/.test(answer.contentType)) return `Content-Type '${answer.contentType}', body ${excerpt(answer.text)}`
  let body: unknown
  try {
    body = JSON.parse(answer.text)
  } catch {
    return `not JSON: ${excerpt(answer.text)}`
  }
  const errors = validateError(body)
  if (errors.length) return `${errors.map((e) => `${e.path || '(root)'} ${e.message}`).join('; ')} in ${excerpt(answer.text)}`
  return undefined
}

/** The statuses a request broken below the API may get: the 4xx above, a timeout, headers too large. */
const HTTP_4XX = new Set([...OPENAI_4XX, 408, 431])

/** judge() for a raw HTTP case: no operation, no body schema, the same rules. */
export function judgeRaw(answer: Answer): Finding | undefined {
  if ('hang' in answer) return { class: 'hang', detail: `no answer within ${TIMEOUT_MS} ms` }
  const { status, text } = answer
  if (status === 0) return { class: 'no answer', detail: text }
  if (status >= 500) return { class: '5xx', detail: `${status} ${excerpt(text)}` }
  if (status >= 400) {
    const shape = errorShape(answer)
    if (shape) return { class: 'unshaped 4xx', detail: `${status}: ${shape}` }
    if (!HTTP_4XX.has(status)) return { class: 'wrong status', detail: `${status} ${excerpt(text)}` }
  }
  return undefined
}

export function excerpt(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ')
  return flat.length > max ? `${flat.slice(0, max)}… (${text.length} chars)` : flat
}
