import {
  matchOperation,
  validateResponse,
  validateStreamEvent,
  type SpecError,
  type SpecVersion,
} from './spec.js'
import { specRegistry, type Violation, type ViolationRegistry } from './spec-violations.js'

/**
 * Wraps a fetch (Plinth's in-process `app.request`) so every response to a spec operation is
 * checked against the official OpenAPI spec. The caller gets the response as it came: JSON is
 * checked on a clone, SSE on a tee of the body, so nothing is delayed or buffered on its side.
 */
export function validatingFetch(
  inner: typeof fetch,
  registry: ViolationRegistry = specRegistry,
): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const { method, url, headers } = describeRequest(input, init)
    const response = await inner(input, init)
    const beta = headers.get('openai-beta') ?? ''
    const asked: SpecVersion = /assistants=v1/.test(beta) ? 'v1' : 'v2'
    const match = matchOperation(method, url.pathname, { version: asked })
    if (!match) return response
    // the six v1-only operations are found (and checked) in the v1 file even without the header
    const { operationId, version } = match
    registry.exercise(operationId)
    const report = (where: Violation['where'], errors: SpecError[]) => {
      const request = `${method} ${url.pathname}`
      for (const e of errors) {
        registry.violations.push({ operationId, request, status: response.status, where, ...e })
      }
    }
    const type = response.headers.get('content-type') ?? ''
    if (type.startsWith('text/event-stream') && response.body) {
      const [mine, theirs] = response.body.tee()
      const reader = mine.getReader()
      const onData = (text: string, event: string | undefined) => {
        const data = parseJson(text)
        if (data === NOT_JSON) report('stream', [notJson(text)])
        else report('stream', validateStreamEvent(operationId, data, { version, event }))
      }
      registry.track(readEvents(reader, onData))
      const body = cancelsWith(theirs, (reason) => reader.cancel(reason))
      const { status, statusText } = response
      return new Response(body, { status, statusText, headers: response.headers })
    }
    if (type.includes('json')) {
      const check = response
        .clone()
        .text()
        .then((text) => {
          const body = parseJson(text)
          if (body === NOT_JSON) return report('body', [notJson(text)])
          report('body', validateResponse(operationId, response.status, body, { version }))
        })
      registry.track(check)
    }
    return response
  }) as typeof fetch
}

const NOT_JSON = Symbol('not JSON')

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return NOT_JSON
  }
}

const notJson = (text: string): SpecError => ({
  path: '',
  message: `is not JSON: ${text.slice(0, 120)}`,
})

function describeRequest(input: RequestInfo | URL, init?: RequestInit) {
  const request = input instanceof Request ? input : undefined
  const url = new URL(request?.url ?? String(input), 'http://plinth.test')
  const method = (init?.method ?? request?.method ?? 'GET').toUpperCase()
  const headers = new Headers(init?.headers ?? request?.headers)
  return { method, url, headers }
}

/**
 * The caller's half of the tee. A tee only cancels its source once both halves are cancelled,
 * so when the client walks away mid-stream the checking half must go too, or the server would
 * never see the disconnect. highWaterMark 0: nothing is read ahead of the caller.
 */
function cancelsWith(
  stream: ReadableStream<Uint8Array>,
  cancelOther: (reason: unknown) => Promise<void>,
) {
  const reader = stream.getReader()
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await reader.read()
        if (done) controller.close()
        else controller.enqueue(value)
      },
      async cancel(reason) {
        await Promise.all([reader.cancel(reason), cancelOther(reason).catch(() => {})])
      },
    },
    { highWaterMark: 0 },
  )
}

/**
 * Reads an SSE body and hands each event's `data:` text to `onData`, skipping `[DONE]`. As in
 * the SSE spec, an event cut off by the end of the stream (a client that left) is dropped.
 */
async function readEvents(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  onData: (data: string, event: string | undefined) => void,
) {
  const decoder = new TextDecoder()
  let buffer = ''
  let event: string | undefined
  let data: string[] = []
  const feed = (line: string) => {
    if (line === '') {
      const text = data.join('\n')
      if (data.length && text !== '[DONE]') onData(text, event)
      event = undefined
      data = []
    } else if (!line.startsWith(':')) {
      const colon = line.indexOf(':')
      const field = colon === -1 ? line : line.slice(0, colon)
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (field === 'data') data.push(value)
      else if (field === 'event') event = value
    }
  }
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return
    buffer += decoder.decode(value, { stream: true })
    // a trailing \r may be the first half of \r\n: keep it for the next chunk
    const cut = buffer.endsWith('\r') ? buffer.length - 1 : buffer.length
    const lines = buffer.slice(0, cut).split(/\r\n|\r|\n/)
    buffer = lines.pop()! + buffer.slice(cut)
    for (const line of lines) feed(line)
  }
}
