// Load and checks shared by the gateway benchmarks: the chat request they send, one autocannon
// run with the CPU it cost each server process (from /proc), and a check that a gateway's
// answers are whole (autocannon counts a 200 whose stream broke off as a success).
import autocannon from 'autocannon'
import { request } from 'undici'
import { cpuMicros } from './proc.js'

/** The benchmarks' chat request: a short conversation, streamed or not. */
export const chatBody = (model: string, stream: boolean) =>
  JSON.stringify({
    model,
    messages: [
      { role: 'system', content: 'You are a benchmark.' },
      { role: 'user', content: 'Say hello from the benchmark upstream, a fixed answer of some length.' },
    ],
    ...(stream ? { stream: true } : {}),
  })

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export type LoadRun = {
  url: string
  headers: Record<string, string>
  body: string
  connections: number
  seconds: number
  /** The server's processes, whose CPU (all threads) is divided by the requests served. */
  pids: number[]
  /** Whether an answer's body is whole (see wholeAnswer); the others count as errors. */
  verifyBody?: (body: string) => boolean
}

export type LoadResult = { rps: number; p50: number; p99: number; requests: number; errors: number; cpuPerRequest: number }

/**
 * A cheap check of each answer under load, for autocannon's verifyBody: a JSON answer holds the
 * expected text, a stream ends with `[DONE]` (one cut short by the gateway still ends its
 * chunked body cleanly, and is a 200 for autocannon).
 */
export function wholeAnswer(expected: string, stream: boolean): (body: string) => boolean {
  const content = `"content":${JSON.stringify(expected)}`
  return stream ? (body) => body.trimEnd().endsWith('data: [DONE]') : (body) => body.includes(content)
}

/**
 * One autocannon run; cpuPerRequest is in µs, over every request answered (errors too). Errors
 * are the requests with no whole answer: failed connections and timeouts, and answers that are
 * not 2xx or (with verifyBody) not whole, the larger of those two counts, as a non-2xx answer
 * fails the body check too.
 */
export async function measureLoad(run: LoadRun): Promise<LoadResult> {
  const cpu = () => run.pids.reduce((sum, pid) => sum + cpuMicros(pid), 0)
  const before = cpu()
  const result = await autocannon({
    url: run.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...run.headers },
    body: run.body,
    connections: run.connections,
    duration: run.seconds,
    ...(run.verifyBody ? { verifyBody: (body: unknown) => run.verifyBody!(String(body)) } : {}),
  })
  const used = cpu() - before
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + Math.max(result.non2xx, run.verifyBody ? result.mismatches : 0),
    cpuPerRequest: used / Math.max(1, result.requests.total),
  }
}

/**
 * The assistant's text of one chat completion, JSON or server-sent events, or why there is
 * none: a stream counts only if it ends with `[DONE]`. A stream is told by its body, not its
 * content type, which one peer leaves out.
 */
export async function answerText(url: string, headers: Record<string, string>, body: string): Promise<string | Error> {
  const response = await request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
  const text = await response.body.text()
  if (response.statusCode !== 200) return new Error(`status ${response.statusCode}: ${text.slice(0, 200)}`)
  try {
    if (!text.startsWith('data:')) {
      const content = JSON.parse(text).choices?.[0]?.message?.content
      return typeof content === 'string' ? content : new Error(`no message content: ${text.slice(0, 200)}`)
    }
    let content = ''
    let done = false
    for (const line of text.split('\n')) {
      if (!line.startsWith('data:')) continue
      const data = line.slice(5).trim()
      if (data === '[DONE]') done = true
      else content += JSON.parse(data).choices?.[0]?.delta?.content ?? ''
    }
    return done ? content : new Error(`stream ended without [DONE]: ${text.slice(-200)}`)
  } catch (error) {
    return new Error(`${error}: ${text.slice(0, 200)}`)
  }
}
