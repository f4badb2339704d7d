import http from 'node:http'

const UPGRADE = Symbol('upgrade')

/**
 * Node's request class, but only WebSocket upgrades (and CONNECT) count as upgrades. Node 20 hands
 * every request with an `Upgrade` header to the server's 'upgrade' listeners once there is one
 * (it reads `req.upgrade` right after the headers), which would take a plain request that merely
 * offers `Upgrade: h2c` (curl --http2 on http://) away from the API. With this class such a
 * request stays an ordinary one, exactly as before any listener existed.
 */
export class WebSocketUpgradeOnly extends http.IncomingMessage {}

Object.defineProperty(WebSocketUpgradeOnly.prototype, 'upgrade', {
  configurable: true,
  get(this: http.IncomingMessage & { [UPGRADE]?: boolean }) {
    if (!this[UPGRADE]) return false
    return this.method === 'CONNECT' || String(this.headers.upgrade ?? '').toLowerCase() === 'websocket'
  },
  set(this: { [UPGRADE]?: boolean }, value: boolean) {
    this[UPGRADE] = value
  },
})
