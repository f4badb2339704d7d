import type { ApiError } from '../errors.js'

export type SseEvent = { event?: string; data: unknown }

export type SseOptions = {
  /**
   * How the stream ends: `data-done` writes `data: [DONE]` (chat, completions); `event-done` writes
   * `event: done` + `data: [DONE]` (assistants); `none` writes nothing more.
   */
  end: 'data-done' | 'event-done' | 'none'
  /** The error event's form: chat writes `data: {"error":...}`, assistants `event: error`. */
  errorEvent: 'data' | 'event'
  toApiError: (error: unknown) => ApiError
  /** Comment sent when nothing else was written for this long, so proxies keep the stream open. */
  keepAliveMs?: number
}

const encoder = new TextEncoder()

function frame(event: SseEvent): Uint8Array {
  const data = typeof event.data === 'string' ? event.data : JSON.stringify(event.data)
  return encoder.encode(event.event ? `event: ${event.event}\ndata: ${data}\n\n` : `data: ${data}\n\n`)
}

/**
 * An SSE response pulled from an async iterable: one event is produced only when the client has
 * taken the last (backpressure), and when the client goes away the iterator's `return()` runs,
 * so the generators' `finally` blocks cancel the model call beneath.
 */
export function sse(events: AsyncIterable<SseEvent>, options: SseOptions, headers?: HeadersInit): Response {
  const iterator = events[Symbol.asyncIterator]()
  let finished = false
  let keepAlive: NodeJS.Timeout | undefined
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        if (options.keepAliveMs) {
          keepAlive = setInterval(() => {
            if (!finished) controller.enqueue(encoder.encode(': keep-alive\n\n'))
          }, options.keepAliveMs)
          keepAlive.unref()
        }
      },
      async pull(controller) {
        try {
          const next = await iterator.next()
          if (!next.done) {
            controller.enqueue(frame(next.value))
            return
          }
          if (options.end === 'data-done') controller.enqueue(encoder.encode('data: [DONE]\n\n'))
          else if (options.end === 'event-done') controller.enqueue(encoder.encode('event: done\ndata: [DONE]\n\n'))
        } catch (error) {
          if (finished) return
          const body = options.toApiError(error).toBody()
          controller.enqueue(frame(options.errorEvent === 'data' ? { data: body } : { event: 'error', data: body }))
        }
        finish()
        controller.close()
      },
      async cancel() {
        finish()
        await iterator.return?.()
      },
    },
    { highWaterMark: 0 },
  )
  function finish() {
    finished = true
    if (keepAlive) clearInterval(keepAlive)
  }
  const h = new Headers(headers)
  h.set('content-type', 'text/event-stream; charset=utf-8')
  h.set('cache-control', 'no-cache')
  h.set('connection', 'keep-alive')
  h.set('x-accel-buffering', 'no')
  return new Response(body, { status: 200, headers: h })
}

/**
 * Pulls the first event before answering, so a failure before any output (bad input, upstream
 * refused) is a plain HTTP error with its own status, not a 200 stream holding an error event.
 */
export async function primedSse(events: AsyncIterable<SseEvent>, options: SseOptions, headers?: HeadersInit): Promise<Response> {
  const iterator = events[Symbol.asyncIterator]()
  const first = await iterator.next()
  async function* rest(): AsyncGenerator<SseEvent> {
    try {
      if (first.done) return
      yield first.value
      for (;;) {
        const next = await iterator.next()
        if (next.done) return
        yield next.value
      }
    } finally {
      await iterator.return?.()
    }
  }
  return sse(rest(), options, headers)
}

export async function* asDataEvents(chunks: AsyncIterable<unknown>): AsyncGenerator<SseEvent> {
  for await (const data of chunks) yield { data }
}
