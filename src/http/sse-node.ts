import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { atBatchEnd, batchEnd, busy } from '../io-batch.js'
import { endText, errorFrameText, frameText, SSE_HEADERS, type SseEvent, type SseOptions } from './sse.js'

/** Tells @hono/node-server that the handler wrote the response itself. */
export function alreadySent(): Response {
  return new Response(null, { headers: { 'x-hono-already-sent': 'true' } })
}

/** Frames held for the end of the turn are written at once past this many characters. */
const FLUSH_AT = 16 * 1024

/** The parts of Node's ServerResponse that say whether a body write may go straight to the socket. */
type OutgoingState = ServerResponse & {
  _headerSent?: boolean
  _hasBody?: boolean
  outputData?: unknown[]
  chunkedEncoding?: boolean
}

/**
 * The socket a body write may bypass the response for: the headers are out, nothing is queued
 * in the response, the body is chunked and this response owns the socket. Anything else (or a Node
 * whose internals differ) gives undefined, and the write goes through `outgoing.write`.
 */
function directSocket(outgoing: OutgoingState): Socket | undefined {
  const socket = outgoing.socket as (Socket & { _httpMessage?: unknown }) | null
  if (
    socket &&
    socket._httpMessage === outgoing &&
    socket.writable &&
    outgoing._headerSent === true &&
    outgoing._hasBody === true &&
    outgoing.chunkedEncoding === true &&
    !outgoing.strictContentLength &&
    !outgoing.writableEnded &&
    outgoing.outputData?.length === 0
  ) {
    return socket
  }
  return undefined
}

/**
 * Writes an SSE stream straight to Node's response. Web streams cost several times the CPU of a
 * proxied chunk in Node 20, and the adapter's stream path waits a timer tick whenever the next
 * chunk is not ready, adding latency to every stream. Backpressure comes from the socket's
 * buffer; when the client goes away the iterator's `return()` runs, so the generators' `finally`
 * blocks cancel the model call beneath.
 *
 * Frames produced in the same turn leave together, at the end of the turn (process.nextTick), in
 * one write. Once the headers are out, that write is one HTTP chunk handed to the socket as one
 * string: `outgoing.write` would queue four buffers (size, CRLF, data, CRLF) through the socket's
 * cork and writev, about twice the CPU for a stream of small frames (one per token).
 */
export async function writeSse<T = SseEvent>(
  outgoing: ServerResponse,
  iterator: AsyncIterator<T>,
  options: SseOptions,
  headers: Record<string, string>,
  first?: IteratorResult<T>,
  /** An item's frames (default: the item is an SseEvent): spares a generator that maps items to events. */
  frame: (item: T) => string = frameText as (item: T) => string,
): Promise<void> {
  let closed = false
  let wake: (() => void) | undefined
  const onClose = () => {
    closed = true
    wake?.()
  }
  outgoing.once('close', onClose)
  outgoing.writeHead(200, { ...headers, ...SSE_HEADERS })
  // the frames of this turn, not yet written
  let pending = ''
  let scheduled = false
  // set while the stream's end waits for the I/O batch: its own write takes what is pending
  let ending = false
  const flushHeld = () => (ending ? (scheduled = false) : flush())
  const flush = () => {
    scheduled = false
    if (!pending) return
    const text = pending
    pending = ''
    if (closed || outgoing.writableEnded) return
    const socket = directSocket(outgoing)
    if (socket) socket.write(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`)
    else outgoing.write(text) // headers go out with the first frame
  }
  const write = (text: string) => {
    pending += text
    // a producer that never yields the turn still meets backpressure
    if (pending.length >= FLUSH_AT) flush()
    else if (!scheduled) {
      scheduled = true
      if (busy()) atBatchEnd(flushHeld)
      else process.nextTick(flush)
    }
  }
  /** Whether the socket (or the response's own queue) holds more than it should. */
  const congested = () => outgoing.writableNeedDrain || Boolean(outgoing.socket?.writableNeedDrain)
  const keepAlive = options.keepAliveMs
    ? setInterval(() => !closed && write(': keep-alive\n\n'), options.keepAliveMs).unref()
    : undefined
  if (!first) outgoing.flushHeaders()
  try {
    let next = first
    for (;;) {
      if (!next) {
        // the previous frames went out at the end of their turn: wait while the client lags
        if (congested() && !closed) {
          await new Promise<void>((resolve) => {
            const socket = outgoing.socket
            const done = () => {
              socket?.off('drain', done)
              outgoing.off('drain', done)
              resolve()
            }
            wake = done
            socket?.once('drain', done)
            outgoing.once('drain', done)
          })
          wake = undefined
        }
        if (closed) return
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
      write(frame(next.value))
      next = undefined
    }
  } finally {
    if (keepAlive) clearInterval(keepAlive)
    outgoing.off('close', onClose)
    if (closed) await iterator.return?.().catch(() => {})
    else if (busy()) {
      ending = true
      await batchEnd()
    }
    // the last frames and the body's end leave in one write, not two
    const socket = outgoing.socket
    socket?.cork()
    flush()
    if (!outgoing.writableEnded) outgoing.end()
    socket?.uncork()
  }
}
