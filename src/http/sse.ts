import type { ServerResponse } from 'node:http'
import type { Context } from 'hono'
import type { ApiError } from '../errors.js'
import { apiLog } from '../logger.js'
import type { AppEnv } from './env.js'
import { nodeBindings } from './node-request.js'
import { alreadySent, writeSse } from './sse-node.js'

/** One event, or `raw`: frames already written out (`data: ...\n\n`), sent as they are. */
export type SseEvent = { event?: string; data: unknown; raw?: undefined } | { raw: string }

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

export function frameText(event: SseEvent): string {
  if (event.raw !== undefined) return event.raw
  const data = typeof event.data === 'string' ? event.data : JSON.stringify(event.data)
  return event.event ? `event: ${event.event}\ndata: ${data}\n\n` : `data: ${data}\n\n`
}

function frame(event: SseEvent): Uint8Array {
  return encoder.encode(frameText(event))
}

export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
}

/** The closing lines of a stream, per SseOptions.end. */
export function endText(end: SseOptions['end']): string {
  return end === 'data-done' ? 'data: [DONE]\n\n' : end === 'event-done' ? 'event: done\ndata: [DONE]\n\n' : ''
}

export function errorFrameText(error: unknown, options: SseOptions): string {
  const body = options.toApiError(error).toBody()
  return frameText(options.errorEvent === 'data' ? { data: body } : { event: 'error', data: body })
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
          const tail = endText(options.end)
          if (tail) controller.enqueue(encoder.encode(tail))
        } catch (error) {
          if (finished) return
          controller.enqueue(encoder.encode(errorFrameText(error, options)))
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
  for (const [name, value] of Object.entries(SSE_HEADERS)) h.set(name, value)
  return new Response(body, { status: 200, headers: h })
}

/**
 * Pulls the first event before answering, so a failure before any output (bad input, upstream
 * refused) is a plain HTTP error with its own status, not a 200 stream holding an error event.
 */
export async function primedSse(c: Context<AppEnv>, events: AsyncIterable<SseEvent>, options: SseOptions, headers?: Record<string, string>): Promise<Response> {
  const node = nodeBindings(c)
  if (node) {
    await primedNodeSse(node.outgoing, events, options, () => ({ ...c.var.standardHeaders(), ...headers }))
    return alreadySent()
  }
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

/**
 * primedSse on a Node response: resolves once the first event is in and the stream is under
 * way (or rejects, with nothing written, when the first event fails). `headers` is read then.
 */
export async function primedNodeSse<T = SseEvent>(
  outgoing: ServerResponse,
  events: AsyncIterable<T>,
  options: SseOptions,
  headers: () => Record<string, string>,
  /** An item's frames, when the items are not SseEvents (writeSse). */
  frame?: (item: T) => string,
): Promise<void> {
  const iterator = events[Symbol.asyncIterator]()
  const first = await iterator.next()
  void writeSse(outgoing, iterator, options, headers(), first, frame).catch((error) => apiLog.error({ err: error }, 'stream write failed'))
}
