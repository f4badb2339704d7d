import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Context } from 'hono'

type NodeBindings = { incoming: IncomingMessage; outgoing: ServerResponse }

/**
 * The Node request and response under @hono/node-server (absent when the app runs in-process, as
 * in tests). Touching `c.req.raw.body` or `.signal` makes the adapter build a full web Request
 * and a web stream over the socket, which cost more than the rest of a proxied request; reading
 * from Node's objects directly avoids both.
 */
export function nodeBindings(c: Context): NodeBindings | undefined {
  const env = c.env as Partial<NodeBindings> | undefined
  return env?.incoming && env.outgoing ? (env as NodeBindings) : undefined
}

// on the response itself, not in a WeakMap (whose short-lived keys cost the GC; request-context.ts)
const SIGNAL = Symbol('plinth.clientGone')

/** Aborts when the client goes away before the response is complete. */
export function requestSignal(c: Context): AbortSignal {
  const node = nodeBindings(c)
  return node ? outgoingSignal(node.outgoing) : c.req.raw.signal
}

/** Aborts when the Node response closes before it finished: the client went away. */
export function outgoingSignal(outgoing: ServerResponse): AbortSignal {
  const holder = outgoing as ServerResponse & { [SIGNAL]?: AbortSignal }
  let signal = holder[SIGNAL]
  if (!signal) {
    const controller = new AbortController()
    signal = controller.signal
    holder[SIGNAL] = signal
    // 'close' comes once per response: a plain listener, without once()'s wrapper
    outgoing.on('close', () => {
      if (!outgoing.writableFinished) controller.abort(new Error('client closed the connection'))
    })
  }
  return signal
}

/** The body's chunks from the web Request (the app run in-process, as in tests). */
export async function* webBodyChunks(c: Context): AsyncGenerator<Uint8Array> {
  const body = c.req.raw.body
  if (!body) return
  const reader = body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      yield value
    }
  } finally {
    reader.releaseLock()
  }
}

/** A request header, read from Node's parsed headers when available (no web Headers object). */
export function requestHeader(c: Context, name: string): string | undefined {
  const node = nodeBindings(c)
  if (!node) return c.req.header(name)
  const value = node.incoming.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}
