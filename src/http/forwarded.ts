import type { Context } from 'hono'
import { nodeBindings, requestHeader } from './node-request.js'

/**
 * What a request says about its client when Plinth runs behind `trustProxy` reverse proxies
 * (server.trustProxy, docs/deployment.md): each of them appends the address it saw to
 * X-Forwarded-For, and the nearest sets X-Forwarded-Proto. Without trusted proxies the headers are
 * ignored, since any client can write them.
 */

/**
 * The client's address from the socket's peer and X-Forwarded-For: the entry the outermost trusted
 * proxy appended. Entries to its left were written by the client and are never believed.
 */
export function forwardedClient(
  peer: string | undefined,
  forwardedFor: string | undefined,
  trustProxy: number,
): string | undefined {
  if (!trustProxy || !peer || !forwardedFor) return peer
  const hops = forwardedFor
    .split(',')
    .map((hop) => hop.trim())
    .filter(Boolean)
  if (!hops.length) return peer
  return hops[Math.max(0, hops.length - trustProxy)]
}

/** The scheme the client used: the nearest proxy's X-Forwarded-Proto, when it is http or https. */
export function forwardedProto(
  forwardedProto: string | undefined,
  trustProxy: number,
): 'http' | 'https' | undefined {
  if (!trustProxy || !forwardedProto) return undefined
  const proto = forwardedProto.split(',').at(-1)!.trim().toLowerCase()
  return proto === 'http' || proto === 'https' ? proto : undefined
}

/** The client's address (undefined for a request made in-process, as in tests). */
export function clientAddress(c: Context, trustProxy: number): string | undefined {
  const peer = nodeBindings(c)?.incoming.socket.remoteAddress
  return forwardedClient(peer, requestHeader(c, 'x-forwarded-for'), trustProxy)
}

/** The origin the client called, e.g. https://api.example.com behind a proxy terminating TLS. */
export function clientOrigin(c: Context, trustProxy: number): string {
  const url = new URL(c.req.url)
  const proto = forwardedProto(requestHeader(c, 'x-forwarded-proto'), trustProxy)
  if (proto) url.protocol = `${proto}:`
  return url.origin
}
