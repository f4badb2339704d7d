import { STATUS_CODES, type IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import type { AppContext } from '../context.js'
import { defaultSession, errorEvent, RealtimeSession, type SessionConfig } from '../domain/realtime/session.js'
import { ApiError, invalidEphemeralKey, invalidRequest, invalidUrl, missingApiKey } from '../errors.js'
import { checkAccess, credentialOf } from '../http/auth.js'
import { checkClientCertificate } from '../http/client-certificate.js'
import { toApiError } from '../http/render-error.js'
import { apiLog as log, writeAccessLine } from '../logger.js'
import { httpDuration, httpRequests } from '../metrics.js'
import type { ProjectPrincipal } from '../principal.js'
import { realtimeAudio } from './realtime-audio.js'
import { checkRealtimeModel } from './realtime.js'
import { bodyLimit } from './shared.js'

/** The largest client event frame: an append event's 15 MiB of base64 audio and its JSON around it. */
const MAX_FRAME_BYTES = 16 * 1024 * 1024

/** Browsers cannot set headers on a WebSocket: the key rides in a subprotocol (OpenAI's names). */
const KEY_PROTOCOLS = ['openai-insecure-api-key.', 'openai-ephemeral-key-v1.']

function offeredProtocols(request: IncomingMessage): string[] {
  return (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean)
}

function secretOf(request: IncomingMessage): string | undefined {
  const header = credentialOf(request.headers.authorization)
  if (header) return header
  for (const protocol of offeredProtocols(request)) {
    const prefix = KEY_PROTOCOLS.find((p) => protocol.startsWith(p))
    if (prefix) return protocol.slice(prefix.length)
  }
  return undefined
}

/** The protocol the server agrees to: `realtime` (or the beta's name), never one carrying a key. */
function chooseProtocol(protocols: Set<string>): string | false {
  if (protocols.has('realtime')) return 'realtime'
  for (const protocol of protocols) if (!KEY_PROTOCOLS.some((p) => protocol.startsWith(p))) return protocol
  return false
}

/** An HTTP answer on the raw socket before any upgrade: OpenAI's error body, then close. */
function refuse(socket: Duplex, error: ApiError) {
  const body = JSON.stringify(error.toBody())
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  )
}

/**
 * An upgrade's access line and request metrics, as every HTTP request has them (http/observe.ts,
 * which the upgrade event bypasses): once refused, with the refusal's status, or once the socket
 * closes, as 101 with the socket's life as its duration.
 */
function reportUpgrade(route: string, path: string, startedAt: number, status: number, principal?: ProjectPrincipal, model?: string) {
  const seconds = (performance.now() - startedAt) / 1000
  const statusLabel = String(status)
  httpRequests.inc(1, route, 'GET', statusLabel, model ?? '', principal?.projectId ?? '')
  httpDuration.observe(seconds, route, 'GET', statusLabel)
  writeAccessLine(
    { method: 'GET', route, path, status, ms: Math.round(seconds * 10_000) / 10, project: principal?.projectId, key_id: principal?.keyId, model },
    `GET ${route} ${status}`,
  )
}

/**
 * GET /v1/realtime?model=... upgraded to a WebSocket (docs/realtime.md): the key (API key or an
 * ephemeral `ek_` one, by header or subprotocol) and the model are checked before the upgrade, so
 * a refusal is a plain HTTP error in OpenAI's shape. An upgrade on any other path gets a 404.
 */
export function realtimeUpgrade(ctx: AppContext) {
  // a frame is parsed whole (JSON.parse, on the event loop): no larger than an append event's 15 MiB
  // of audio and its envelope, which keeps that parse to a few milliseconds
  const server = new WebSocketServer({ noServer: true, maxPayload: Math.min(bodyLimit(ctx), MAX_FRAME_BYTES), handleProtocols: chooseProtocol })
  server.on('error', (error) => log.warn({ err: error }, 'realtime socket server error'))
  const certificateHeader = ctx.config.server.clientCertificateHeader?.toLowerCase()

  const admit = async (request: IncomingMessage, url: URL): Promise<{ principal: ProjectPrincipal; config: SessionConfig }> => {
    const secret = secretOf(request)
    if (!secret) throw missingApiKey()
    let principal: ProjectPrincipal
    let session: Record<string, unknown> = {}
    if (secret.startsWith('ek_')) {
      const grant = await ctx.services.realtime.redeem(secret)
      if (!grant) throw invalidEphemeralKey(secret)
      principal = grant.principal
      session = grant.session
    } else {
      const found = await ctx.services.keys.authenticate(secret)
      if (certificateHeader) checkClientCertificate(found, header(request, certificateHeader))
      checkAccess(found, { organization: header(request, 'openai-organization'), project: header(request, 'openai-project') }, 'project', { resource: 'realtime', access: 'write' })
      principal = found as ProjectPrincipal
    }
    const model = url.searchParams.get('model') ?? (session.model as string | undefined)
    if (!model) throw invalidRequest("Missing required parameter: 'model'.", 'model', 'missing_required_parameter')
    checkRealtimeModel(ctx, principal, model)
    return { principal, config: { ...defaultSession(model), ...(session as Partial<SessionConfig>), model } }
  }

  const open = (socket: WebSocket, principal: ProjectPrincipal, config: SessionConfig) => {
    socket.on('error', (error) => log.debug({ err: error }, 'realtime socket error'))
    const send = (event: object) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(event))
    }
    const deps = {
      chat: ctx.services.chat,
      reserve: (p: ProjectPrincipal, model: string) => ctx.services.limits.reserve(p, model),
      checkModel: (p: ProjectPrincipal, model: string) => checkRealtimeModel(ctx, p, model),
      audio: realtimeAudio(ctx, principal),
      onError: (error: unknown) => log.error({ err: error }, 'realtime event failed'),
      sessionSeconds: ctx.config.realtime.sessionSeconds,
    }
    const session = new RealtimeSession(deps, principal, config, send)
    socket.on('message', (data, isBinary) => {
      if (isBinary) return send(errorEvent({ type: 'invalid_request_error', code: 'invalid_json', message: 'Events are JSON text frames; a binary frame was received.', param: null }, null))
      session.handle(data.toString())
    })
    // at expires_at, as OpenAI: the session_expired error event, then a close (1001, going away, with the same words)
    const expiry = setTimeout(() => socket.close(1001, session.expire()), session.seconds * 1000)
    socket.on('close', () => {
      clearTimeout(expiry)
      session.close()
    })
    session.start()
  }

  return (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const startedAt = performance.now()
    socket.on('error', () => socket.destroy())
    const url = new URL(request.url ?? '/', 'http://plinth')
    if (url.pathname !== '/v1/realtime' && url.pathname !== '/v1/realtime/') {
      const error = invalidUrl(request.method ?? 'GET', request.url ?? '/')
      reportUpgrade('unmatched', url.pathname, startedAt, error.status)
      return refuse(socket, error)
    }
    admit(request, url).then(
      ({ principal, config }) =>
        server.handleUpgrade(request, socket, head, (ws) => {
          ws.once('close', () => reportUpgrade('/v1/realtime', url.pathname, startedAt, 101, principal, config.model))
          open(ws, principal, config)
        }),
      (error: unknown) => {
        const refusal = error instanceof ApiError ? error : toApiError(error, 'realtime')
        reportUpgrade('/v1/realtime', url.pathname, startedAt, refusal.status)
        refuse(socket, refusal)
      },
    )
  }
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value[0] : value
}
