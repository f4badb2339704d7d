import { Readable } from 'node:stream'
import { errors, Pool, type Dispatcher } from 'undici'
import { atBatchEnd, busy } from '../../io-batch.js'
import type { UpstreamConfig } from '../../config/schema.js'
import type { ProviderError } from '../../errors.js'
import { tracing } from '../../tracing/tracing.js'
import { type AbortCause, type ModelNames, transportError, upstreamStatusError, withPublicModel } from './errors.js'

/** An upstream answer's body: its chunks as they come, or all of it as text or JSON. */
export type UpstreamBody = AsyncIterable<Buffer> & {
  json(): Promise<unknown>
  text(): Promise<string>
}

/** Chunks held for a reader that lags, past which undici stops reading the socket. */
const HELD_BYTES = 64 * 1024

/**
 * One upstream request in flight, as undici's own dispatch handler: its abort, its overall
 * deadline, the answer's body, and the mapping of whatever goes wrong into a ProviderError.
 * `dispose()` must run when the caller is done.
 *
 * undici's `request()` wraps every call in an AsyncResource, a Readable stream for the body, an
 * abort listener and a promise per step: about 20 µs of a proxied request's CPU, more than half
 * of undici's share. Here the handler gets the socket's chunks directly; a JSON answer is one
 * concat and parse, a stream's chunks go to its one reader with backpressure (the socket is not
 * read while more than HELD_BYTES wait).
 */
export class UpstreamExchange implements Dispatcher.DispatchHandler, UpstreamBody {
  /** The answer's status, once its headers are in. */
  statusCode = 0
  /** The answer's content type (audio answers may be JSON, text or SSE). */
  contentType = ''
  private cause: AbortCause | undefined
  private readonly timer: NodeJS.Timeout
  private headersTimer: NodeJS.Timeout | undefined
  /** undici's abort of this request, from onConnect. */
  private abortRequest: ((error: Error) => void) | undefined
  private resumeReading: (() => void) | undefined
  private paused = false
  private readonly chunks: Buffer[] = []
  private held = 0
  /** Bytes of the answer's body received so far. */
  bodyBytes = 0
  private ended = false
  private failure: unknown
  /** Told when headers, a chunk, the end or a failure arrive. */
  private wake: (() => void) | undefined
  private onHeadersIn: ((started: boolean) => void) | undefined
  /** A whole-body read (text, json): nothing to pause for. */
  private whole = false

  constructor(
    private readonly upstream: UpstreamConfig,
    private readonly clientSignal: AbortSignal,
    headersDeadline: boolean,
    /** The model's names, when the request names one: its errors say the public one. */
    private readonly names?: ModelNames,
  ) {
    this.timer = setTimeout(() => this.abort('timeout'), upstream.timeoutMs)
    // our own timer: undici's headersTimeout ticks in half-seconds and misses short deadlines
    if (headersDeadline)
      this.headersTimer = setTimeout(() => this.abort('headers-timeout'), upstream.connectTimeoutMs)
    if (clientSignal.aborted) this.abort('client')
    else clientSignal.addEventListener('abort', this.onClientAbort, { once: true })
  }

  /** The exchange is its own body (UpstreamBody): one object per upstream request, not three. */
  get body(): UpstreamBody {
    return this
  }

  private readonly onClientAbort = () => this.abort('client')

  private abort(cause: AbortCause) {
    if (this.cause || this.ended) return
    this.cause = cause
    const error = new errors.RequestAbortedError()
    // before undici connected: onConnect aborts at once
    if (this.abortRequest) this.abortRequest(error)
  }

  /** Resolves once the answer's headers are in; rejects when the request fails before them. */
  started(): Promise<void> {
    if (this.statusCode) return Promise.resolve()
    if (this.failure !== undefined) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      this.onHeadersIn = (ok) => (ok ? resolve() : reject(this.failure))
    })
  }

  // undici's dispatch handler (the callback form its clients call)

  onConnect(abort: (error?: Error) => void) {
    if (this.cause) abort(new errors.RequestAbortedError())
    else this.abortRequest = abort
  }

  onHeaders(statusCode: number, headers: Buffer[] | string[] | null, resume: () => void): boolean {
    if (statusCode < 200) return true
    clearTimeout(this.headersTimer)
    this.statusCode = statusCode
    this.resumeReading = resume
    if (headers) {
      for (let i = 0; i < headers.length; i += 2) {
        const name = headers[i]
        if (name.length === 12 && name.toString().toLowerCase() === 'content-type') this.contentType = headers[i + 1].toString()
      }
    }
    this.onHeadersIn?.(true)
    this.onHeadersIn = undefined
    return true
  }

  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk)
    this.held += chunk.length
    this.bodyBytes += chunk.length
    const wake = this.wake
    this.wake = undefined
    wake?.()
    // a reader that takes chunks one by one (or has not started) can lag; a whole-body read takes all
    if (!this.whole && this.held > HELD_BYTES) {
      this.paused = true
      return false
    }
    return true
  }

  onComplete() {
    this.ended = true
    clearTimeout(this.timer)
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  onError(error: Error) {
    this.failure = error
    this.ended = true
    this.onHeadersIn?.(false)
    this.onHeadersIn = undefined
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  // the body (UpstreamBody)

  private whenMore(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve))
  }

  private async all(): Promise<Buffer> {
    this.whole = true
    this.resume()
    while (!this.ended) await this.whenMore()
    if (this.failure !== undefined) throw this.failure
    const chunks = this.chunks
    const whole = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, this.held)
    chunks.length = 0
    this.held = 0
    return whole
  }

  async text(): Promise<string> {
    const whole = await this.all()
    // as undici's body.text(): a UTF-8 byte order mark is skipped
    const start = whole.length > 2 && whole[0] === 0xef && whole[1] === 0xbb && whole[2] === 0xbf ? 3 : 0
    return whole.toString('utf8', start)
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text())
  }

  private resume() {
    if (!this.paused) return
    this.paused = false
    this.resumeReading?.()
  }

  /**
   * The chunks as they come, what arrived since the last read in one Buffer. An iterator object,
   * not an async generator: a generator's resumptions cost a few µs per read of every stream.
   */
  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return { next: () => this.nextChunk(), return: () => Promise.resolve({ done: true, value: undefined }) }
  }

  private nextChunk(): Promise<IteratorResult<Buffer>> {
    if (this.chunks.length) {
      const chunk = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.held)
      this.chunks.length = 0
      this.held = 0
      this.resume()
      return Promise.resolve({ done: false, value: chunk })
    }
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.ended) return Promise.resolve({ done: true, value: undefined })
    return this.whenMore().then(() => this.nextChunk())
  }

  fail(error: unknown): ProviderError {
    return withPublicModel(transportError(this.upstream.id, error, this.cause, this.upstream), this.names)
  }

  dispose() {
    clearTimeout(this.timer)
    clearTimeout(this.headersTimer)
    this.clientSignal.removeEventListener('abort', this.onClientAbort)
    // a body left unread (the reader stopped early, or failed) frees its connection
    if (!this.ended && this.abortRequest) {
      this.ended = true
      this.abortRequest(new errors.RequestAbortedError())
    }
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
      const dispatch = () =>
        this.pool.dispatch(
          {
            method: 'POST',
            path: this.basePath + path,
            // the provider call's span as the upstream's parent (W3C traceparent)
            headers: tracing ? tracing.headers(sent) : sent,
            body: typeof body === 'string' || body instanceof Uint8Array ? body : Readable.from(body),
          },
          exchange,
        )
      if (busy()) atBatchEnd(dispatch)
      else dispatch()
      await exchange.started()
      if (exchange.statusCode < 200 || exchange.statusCode > 299) {
        const text = await exchange.text()
        throw upstreamStatusError(this.upstream.id, exchange.statusCode, text)
      }
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
