import type { ServerResponse } from 'node:http'
import { endText, errorFrameText, frameText, SSE_HEADERS, type SseEvent, type SseOptions } from './sse.js'

/** Tells @hono/node-server that the handler wrote the response itself. */
export function alreadySent(): Response {
  return new Response(null, { headers: { 'x-hono-already-sent': 'true' } })
}

/**
 * Writes an SSE stream straight to Node's response. Web streams cost several times the CPU of a
 * proxied chunk in Node 20, and the adapter's stream path waits a timer tick whenever the next
 * chunk is not ready, adding latency to every stream. Backpressure comes from `write()`'s return
 * value; when the client goes away the iterator's `return()` runs, so the generators' `finally`
 * blocks cancel the model call beneath.
 */
export async function writeSse(
  outgoing: ServerResponse,
  iterator: AsyncIterator<SseEvent>,
  options: SseOptions,
  headers: Record<string, string>,
  first?: IteratorResult<SseEvent>,
): Promise<void> {
  let closed = false
  let wake: (() => void) | undefined
  const onClose = () => {
    closed = true
    wake?.()
  }
  outgoing.once('close', onClose)
  const keepAlive = options.keepAliveMs
    ? setInterval(() => !closed && outgoing.write(': keep-alive\n\n'), options.keepAliveMs).unref()
    : undefined
  outgoing.writeHead(200, { ...headers, ...SSE_HEADERS })
  // headers go out with the first frame; frames produced in the same turn leave in one write
  let corked = false
  const write = (text: string) => {
    if (!corked) {
      corked = true
      outgoing.cork()
      process.nextTick(() => {
        corked = false
        outgoing.uncork()
      })
    }
    return outgoing.write(text)
  }
  if (!first) outgoing.flushHeaders()
  try {
    let next = first
    for (;;) {
      if (!next) {
        try {
          next = await iterator.next()
        } catch (error) {
          if (!closed) write(errorFrameText(error, options))
          return
        }
      }
      if (closed) return
      if (next.done) {
        const tail = endText(options.end)
        if (tail) write(tail)
        return
      }
      if (!write(frameText(next.value))) {
        await new Promise<void>((resolve) => {
          wake = resolve
          outgoing.once('drain', resolve)
        })
        wake = undefined
      }
      next = undefined
    }
  } finally {
    if (keepAlive) clearInterval(keepAlive)
    outgoing.off('close', onClose)
    if (closed) await iterator.return?.().catch(() => {})
    if (!outgoing.writableEnded) outgoing.end()
  }
}
