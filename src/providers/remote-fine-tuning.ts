/** An upstream's fine-tuning job, as its API returns it (the fields Plinth mirrors). */
export type RemoteJob = {
  id: string
  status: string
  fine_tuned_model: string | null
  trained_tokens: number | null
  estimated_finish?: number | null
  error?: { code: string; message: string; param: string | null } | null
  hyperparameters?: Record<string, unknown>
  method?: Record<string, unknown>
}

export type RemoteEvent = {
  id: string
  created_at: number
  level: 'info' | 'warn' | 'error'
  message: string
  type?: 'message' | 'metrics'
  data?: Record<string, unknown> | null
}

export type RemoteCheckpoint = {
  id: string
  created_at: number
  fine_tuned_model_checkpoint: string
  step_number: number
  metrics: Record<string, number>
}

/**
 * An upstream with OpenAI's fine-tuning API (`upstreams[].fineTuning`): Plinth uploads the
 * training file there, creates the job, and mirrors it by polling.
 */
export interface RemoteFineTuning {
  readonly pollMs: number
  uploadFile(filename: string, bytes: Buffer, signal: AbortSignal): Promise<{ id: string }>
  createJob(body: Record<string, unknown>, signal: AbortSignal): Promise<RemoteJob>
  getJob(id: string, signal: AbortSignal): Promise<RemoteJob>
  cancelJob(id: string, signal: AbortSignal): Promise<RemoteJob>
  pauseJob(id: string, signal: AbortSignal): Promise<RemoteJob>
  resumeJob(id: string, signal: AbortSignal): Promise<RemoteJob>
  /** The newest events first, up to 100. */
  listEvents(id: string, signal: AbortSignal): Promise<RemoteEvent[]>
  listCheckpoints(id: string, signal: AbortSignal): Promise<RemoteCheckpoint[]>
  deleteModel(model: string, signal: AbortSignal): Promise<void>
}

export interface RemoteTrainingBackend {
  /** Present when the upstream is configured as able to fine-tune. */
  readonly remoteFineTuning?: RemoteFineTuning
}
