import http from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  chatCompletion,
  chatEvents,
  completionEvents,
  embeddings,
  textCompletion,
} from './fake-upstream-answers.js'

export { FAKE_TEXT, fakeEmbedding } from './fake-upstream-answers.js'

/** How the fake answers; every field is optional and the defaults make a well-behaved server. */
export type FakeBehavior = {
  /** The answer text; streamed one word (with its leading space) per chunk. */
  text?: string
  /** Answer with these tool calls instead of text (finish_reason `tool_calls`). */
  toolCalls?: { id: string; name: string; arguments: string }[]
  finishReason?: string
  usage?: {
    prompt_tokens: number
    completion_tokens?: number
    cached_tokens?: number
    reasoning_tokens?: number
  }
  /** Answer this status and body (an object as JSON, a string as text/plain). */
  error?: { status: number; body: unknown }
  /** `headers`: never answer at all; `body`: send 200 and headers, then nothing. */
  hang?: 'headers' | 'body'
  /** Pause before answering at all (a slow model). */
  delayMs?: number
  /** Pause before each streamed event after the first. */
  chunkDelayMs?: number
  /** Write this many streamed events, then wait for `release()`. */
  holdAfter?: number
  /** Write this many streamed events, then destroy the socket. */
  dropAfter?: number
  /** Write this many streamed events, then `data: {"error": error}`, then end. */
  streamError?: { after: number; error: unknown }
  /** Line ending of the SSE stream (`\r\n` to test CRLF servers). */
  lineEnding?: '\n' | '\r\n'
  /** The models it serves: another `model` gets OpenAI's 404 model_not_found (default: any). */
  models?: string[]
}

export type RecordedRequest = {
  method: string
  path: string
  headers: http.IncomingHttpHeaders
  body: any
  /** The client closed the connection before the answer was complete. */
  aborted: boolean
  /** Resolves when the exchange is over, answered or aborted. */
  closed: Promise<void>
}

export type FakeUpstream = {
  /** http://127.0.0.1:<port>/v1 */
  baseURL: string
  port: number
  requests: RecordedRequest[]
  /** The behaviour of every following request (until `reset`). */
  set(behavior: FakeBehavior): void
  /** The behaviour of the next request only (queued, ahead of `set`). */
  once(behavior: FakeBehavior): void
  /** Lets held streams (`holdAfter`) continue. */
  release(): void
  reset(): void
  last(): RecordedRequest
  close(): Promise<void>
}

/**
 * A fake OpenAI upstream on 127.0.0.1 (chat, completions, embeddings, models) with failure modes.
 * Also meant for benchmarks: `record: false` keeps no history.
 */
export async function startFakeUpstream(
  options: { behavior?: FakeBehavior; record?: boolean } = {},
): Promise<FakeUpstream> {
  const record = options.record ?? true
  let defaults: FakeBehavior = options.behavior ?? {}
  const queue: FakeBehavior[] = []
  const requests: RecordedRequest[] = []
  let gate = deferred()

  const server = http.createServer({ noDelay: true }, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      let body: any
      try {
        body = text ? JSON.parse(text) : undefined
      } catch {
        body = text
      }
      res.on('error', () => {})
      if (record) {
        const closed = deferred()
        const entry: RecordedRequest = {
          method: req.method!,
          path: req.url!,
          headers: req.headers,
          body,
          aborted: false,
          closed: closed.promise,
        }
        requests.push(entry)
        res.on('close', () => {
          if (!res.writableFinished) entry.aborted = true
          closed.resolve()
        })
      }
      void answer(req.url ?? '', body, res, queue.shift() ?? defaults, () => gate.promise)
    })
  })
  // longer than undici's keep-alive, so pooled connections are not cut under the client
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    set: (behavior) => void (defaults = behavior),
    once: (behavior) => void queue.push(behavior),
    release() {
      gate.resolve()
      gate = deferred()
    },
    reset() {
      requests.length = 0
      queue.length = 0
      defaults = options.behavior ?? {}
    },
    last: () => requests[requests.length - 1],
    async close() {
      gate.resolve()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

async function answer(
  url: string,
  body: any,
  res: http.ServerResponse,
  b: FakeBehavior,
  held: () => Promise<void>,
) {
  if (b.hang === 'headers') return
  if (b.delayMs) await new Promise((r) => setTimeout(r, b.delayMs))
  if (b.error) {
    const json = typeof b.error.body !== 'string'
    res.writeHead(b.error.status, { 'content-type': json ? 'application/json' : 'text/plain' })
    res.end(json ? JSON.stringify(b.error.body) : b.error.body)
    return
  }
  if (b.hang === 'body') {
    res.writeHead(200, { 'content-type': body?.stream ? 'text/event-stream' : 'application/json' })
    res.flushHeaders()
    return
  }
  const path = url.split('?')[0]
  if (b.models && typeof body?.model === 'string' && !b.models.includes(body.model)) {
    return sendJson(res, 404, {
      error: {
        message: `The model \`${body.model}\` does not exist or you do not have access to it.`,
        type: 'invalid_request_error',
        param: null,
        code: 'model_not_found',
      },
    })
  }
  if (path.endsWith('/chat/completions')) {
    return body?.stream
      ? stream(res, chatEvents(body, b), b, held)
      : sendJson(res, 200, chatCompletion(body, b))
  }
  if (path.endsWith('/completions')) {
    return body?.stream
      ? stream(res, completionEvents(body, b), b, held)
      : sendJson(res, 200, textCompletion(body, b))
  }
  if (path.endsWith('/embeddings')) return sendJson(res, 200, embeddings(body))
  if (path.endsWith('/models'))
    return sendJson(res, 200, {
      object: 'list',
      data: [{ id: 'fake-model', object: 'model', created: 0, owned_by: 'fake' }],
    })
  sendJson(res, 404, {
    error: {
      message: `Invalid URL (POST ${path})`,
      type: 'invalid_request_error',
      param: null,
      code: null,
    },
  })
}

function sendJson(res: http.ServerResponse, status: number, value: unknown) {
  const text = JSON.stringify(value)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  })
  res.end(text)
}

async function stream(
  res: http.ServerResponse,
  events: unknown[],
  b: FakeBehavior,
  held: () => Promise<void>,
) {
  const eol = b.lineEnding ?? '\n'
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  res.write(`: fake upstream${eol}${eol}`)
  let written: Promise<unknown> = Promise.resolve()
  for (let i = 0; i < events.length; i++) {
    if (i === b.holdAfter) await held()
    if (i === b.dropAfter) {
      // destroying at once would discard what is still corked in the socket
      await written
      return void res.destroy()
    }
    if (i === b.streamError?.after) {
      res.end(`data: ${JSON.stringify({ error: b.streamError.error })}${eol}${eol}`)
      return
    }
    if (i > 0 && b.chunkDelayMs) await new Promise((resolve) => setTimeout(resolve, b.chunkDelayMs))
    if (res.destroyed) return
    written = new Promise((resolve) =>
      res.write(`data: ${JSON.stringify(events[i])}${eol}${eol}`, resolve),
    )
  }
  if (!res.destroyed) res.end(`data: [DONE]${eol}${eol}`)
}

function deferred() {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}
