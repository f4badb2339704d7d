import type { UpstreamConfig } from '../../config/schema.js'
import type {
  RemoteCheckpoint,
  RemoteEvent,
  RemoteFineTuning,
  RemoteJob,
} from '../remote-fine-tuning.js'
import { upstreamStatusError } from './errors.js'

/** OpenAI's fine-tuning API of one upstream, over fetch (a few calls a second at most). */
export class UpstreamFineTuning implements RemoteFineTuning {
  readonly pollMs: number
  private readonly base: string
  private readonly headers: Record<string, string>

  constructor(
    private readonly upstream: UpstreamConfig,
    apiKey: string | undefined,
  ) {
    this.pollMs = upstream.fineTuningPollMs ?? 5_000
    this.base = upstream.baseURL.replace(/\/+$/, '')
    this.headers = {}
    for (const [name, value] of Object.entries(upstream.headers)) this.headers[name.toLowerCase()] = value
    if (apiKey) this.headers.authorization = `Bearer ${apiKey}`
  }

  async uploadFile(filename: string, bytes: Buffer, signal: AbortSignal) {
    const form = new FormData()
    form.append('purpose', 'fine-tune')
    form.append('file', new Blob([new Uint8Array(bytes)]), filename)
    return this.call<{ id: string }>('POST', '/files', signal, form)
  }

  createJob(body: Record<string, unknown>, signal: AbortSignal) {
    return this.call<RemoteJob>('POST', '/fine_tuning/jobs', signal, body)
  }

  getJob(id: string, signal: AbortSignal) {
    return this.call<RemoteJob>('GET', `/fine_tuning/jobs/${encodeURIComponent(id)}`, signal)
  }

  cancelJob(id: string, signal: AbortSignal) {
    return this.call<RemoteJob>('POST', `/fine_tuning/jobs/${encodeURIComponent(id)}/cancel`, signal)
  }

  pauseJob(id: string, signal: AbortSignal) {
    return this.call<RemoteJob>('POST', `/fine_tuning/jobs/${encodeURIComponent(id)}/pause`, signal)
  }

  resumeJob(id: string, signal: AbortSignal) {
    return this.call<RemoteJob>('POST', `/fine_tuning/jobs/${encodeURIComponent(id)}/resume`, signal)
  }

  async listEvents(id: string, signal: AbortSignal) {
    const page = await this.call<{ data: RemoteEvent[] }>(
      'GET',
      `/fine_tuning/jobs/${encodeURIComponent(id)}/events?limit=100`,
      signal,
    )
    return page.data
  }

  async listCheckpoints(id: string, signal: AbortSignal) {
    const page = await this.call<{ data: RemoteCheckpoint[] }>(
      'GET',
      `/fine_tuning/jobs/${encodeURIComponent(id)}/checkpoints?limit=100`,
      signal,
    )
    return page.data
  }

  async deleteModel(model: string, signal: AbortSignal) {
    await this.call('DELETE', `/models/${encodeURIComponent(model)}`, signal)
  }

  private async call<T>(method: string, path: string, signal: AbortSignal, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { ...this.headers, accept: 'application/json' }
    let payload: BodyInit | undefined
    if (body instanceof FormData) payload = body
    else if (body !== undefined) {
      headers['content-type'] = 'application/json'
      payload = JSON.stringify(body)
    }
    const response = await fetch(this.base + path, {
      method,
      headers,
      body: payload,
      signal: AbortSignal.any([signal, AbortSignal.timeout(this.upstream.timeoutMs)]),
    })
    const text = await response.text()
    if (!response.ok) throw upstreamStatusError(this.upstream.id, response.status, text)
    return (text ? JSON.parse(text) : {}) as T
  }
}
