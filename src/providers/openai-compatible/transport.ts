import { EventEmitter } from 'node:events'
import { Readable } from 'node:stream'
import { Pool } from 'undici'
import type { UpstreamConfig } from '../../config/schema.js'
import type { ProviderError } from '../../errors.js'
import { tracing } from '../../tracing/tracing.js'
import { type AbortCause, type ModelNames, transportError, upstreamStatusError, withPublicModel } from './errors.js'

/** The part of an undici response body this adapter uses (it is also an async iterable of Buffers). */
export type UpstreamBody = AsyncIterable<Buffer> & {
  json(): Promise<unknown>
  text(): Promise<string>
}

/**
 * One upstream request in flight: its abort signal, its overall deadline, and the mapping of
 * whatever goes wrong into a ProviderError. `dispose()` must run when the caller is done.
 *
 * The exchange is itself the signal undici watches (undici takes an EventEmitter with `aborted`
 * and an 'abort' event): an AbortController per upstream request, with its EventTarget listeners,
 * was a measurable part of a proxied request's CPU.
 */
export class UpstreamExchange extends EventEmitter {
  aborted = false
  body!: UpstreamBody
  /** The answer's content type (audio answers may be JSON, text or SSE). */
  contentType = ''
  private cause: AbortCause | undefined
  private readonly timer: NodeJS.Timeout
  private headersTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly upstream: UpstreamConfig,
    private readonly clientSignal: AbortSignal,
    headersDeadline: boolean,
    /** The model's names, when the request names one: its errors say the public one. */
    private readonly names?: ModelNames,
  ) {
    super()
    this.timer = setTimeout(() => this.abort('timeout'), upstream.timeoutMs)
    // our own timer: undici's headersTimeout ticks in half-seconds and misses short deadlines
    if (headersDeadline)
      this.headersTimer = setTimeout(() => this.abort('headers-timeout'), upstream.connectTimeoutMs)
    if (clientSignal.aborted) this.abort('client')
    else clientSignal.addEventListener('abort', this.onClientAbort, { once: true })
  }

  private readonly onClientAbort = () => this.abort('client')

  private abort(cause: AbortCause) {
    if (this.aborted) return
    this.cause = cause
    this.aborted = true
    this.emit('abort')
  }

  answered() {
    clearTimeout(this.headersTimer)
  }

  fail(error: unknown): ProviderError {
    return withPublicModel(transportError(this.upstream.id, error, this.cause, this.upstream), this.names)
  }

  dispose() {
    clearTimeout(this.timer)
    clearTimeout(this.headersTimer)
    this.clientSignal.removeEventListener('abort', this.onClientAbort)
  }
}

/** A keep-alive connection pool to one upstream, posting JSON under its baseURL. */
export class UpstreamTransport {
  private readonly pool: Pool
  private readonly basePath: string
  private readonly headers: Record<string, string>
  private readonly streamHeaders: Record<string, string>

  constructor(
    private readonly upstream: UpstreamConfig,
    apiKey: string | undefined,
  ) {
    const url = new URL(upstream.baseURL)
    this.basePath = url.pathname.replace(/\/+$/, '')
    this.pool = new Pool(url.origin, {
      connect: { timeout: upstream.connectTimeoutMs },
      // the exchange's timers are the deadlines; undici's own idle limits stay out of their way
      bodyTimeout: 0,
      headersTimeout: 0,
    })
    // lower-cased, so a configured `Authorization` cannot ride along with the key's own header
    this.headers = {}
    for (const [name, value] of Object.entries(upstream.headers))
      this.headers[name.toLowerCase()] = value
    this.headers['content-type'] = 'application/json'
    this.headers.accept = 'application/json'
    if (apiKey) this.headers.authorization = `Bearer ${apiKey}`
    this.streamHeaders = { ...this.headers, accept: 'text/event-stream' }
  }

  /**
   * POSTs `body` to `{baseURL}{path}` and resolves once a 2xx status and headers are in; a non-2xx
   * answer or a transport failure throws a ProviderError. Streamed requests must see headers
   * within `connectTimeoutMs`; a non-streamed one legitimately sends none until the whole answer
   * is generated, so it only has the overall `timeoutMs`.
   */
  async post(
    path: string,
    body: string | Uint8Array | AsyncIterable<Uint8Array>,
    signal: AbortSignal,
    streamed: boolean,
    /** Headers that replace the JSON defaults (a multipart upload's content type and length). */
    headers?: Record<string, string>,
    names?: ModelNames,
  ): Promise<UpstreamExchange> {
    const exchange = new UpstreamExchange(this.upstream, signal, streamed, names)
    const sent = headers ? { ...(streamed ? this.streamHeaders : this.headers), ...headers } : streamed ? this.streamHeaders : this.headers
    try {
      const response = await this.pool.request({
        method: 'POST',
        path: this.basePath + path,
        // the provider call's span as the upstream's parent (W3C traceparent)
        headers: tracing ? tracing.headers(sent) : sent,
        body: typeof body === 'string' || body instanceof Uint8Array ? body : Readable.from(body),
        signal: exchange,
      })
      exchange.answered()
      if (response.statusCode < 200 || response.statusCode > 299) {
        const text = await response.body.text()
        throw upstreamStatusError(this.upstream.id, response.statusCode, text)
      }
      exchange.body = response.body as unknown as UpstreamBody
      exchange.contentType = String(response.headers['content-type'] ?? '')
      return exchange
    } catch (error) {
      exchange.dispose()
      throw exchange.fail(error)
    }
  }

  async close() {
    const grace = new Promise<void>((resolve) => setTimeout(resolve, 1000).unref())
    await Promise.race([this.pool.close().catch(() => {}), grace])
    if (!this.pool.destroyed) await this.pool.destroy()
  }
}
