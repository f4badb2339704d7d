import http from 'node:http'
import type { AddressInfo } from 'node:net'

type Job = {
  id: string
  model: string
  status: string
  fine_tuned_model: string | null
  trained_tokens: number | null
  training_file: string
  body: Record<string, unknown>
  events: { id: string; created_at: number; level: string; message: string; type: string; data: Record<string, unknown> }[]
  checkpoints: { id: string; created_at: number; fine_tuned_model_checkpoint: string; step_number: number; metrics: Record<string, number>; object: string; fine_tuning_job_id: string }[]
}

/**
 * A fake upstream with OpenAI's fine-tuning routes (files, jobs, events, checkpoints, cancel,
 * pause, resume, model delete) and chat completions. A job advances one stage per `advance()`:
 * queued, running with a metrics event and a checkpoint, then succeeded (a paused job stays).
 */
export async function startFakeFineTuningUpstream() {
  const files = new Map<string, { purpose: string; bytes: Buffer }>()
  const jobs = new Map<string, Job>()
  const chats: { model: string }[] = []
  const deletedModels: string[] = []
  const pauses: string[] = []
  let n = 0
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const raw = Buffer.concat(chunks)
    const url = new URL(req.url!, 'http://x')
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    const path = url.pathname.replace(/^\/v1/, '')
    if (req.method === 'POST' && path === '/files') {
      const text = raw.toString('latin1')
      const purpose = /name="purpose"\r\n\r\n([^\r]*)/.exec(text)?.[1] ?? ''
      const id = `file-up${++n}`
      files.set(id, { purpose, bytes: raw })
      return send(200, { id, object: 'file', purpose, bytes: raw.length, created_at: 0, filename: 'x' })
    }
    if (req.method === 'POST' && path === '/fine_tuning/jobs') {
      const body = JSON.parse(raw.toString())
      if (!files.has(body.training_file)) return send(400, { error: { message: `invalid training_file: ${body.training_file}`, type: 'invalid_request_error', param: 'training_file', code: null } })
      const id = `ftjob-up${++n}`
      const job: Job = { id, model: body.model, status: 'validating_files', fine_tuned_model: null, trained_tokens: null, training_file: body.training_file, body, events: [], checkpoints: [] }
      job.events.push({ id: `ev-${++n}`, created_at: 1, level: 'info', message: `Created fine-tuning job: ${id}`, type: 'message', data: {} })
      jobs.set(id, job)
      return send(200, view(job))
    }
    const m = /^\/fine_tuning\/jobs\/([^/]+)(\/(events|checkpoints|cancel|pause|resume))?$/.exec(path)
    if (m) {
      const job = jobs.get(m[1])
      if (!job) return send(404, { error: { message: 'not found', type: 'invalid_request_error', param: null, code: null } })
      if (m[3] === 'events') return send(200, { object: 'list', data: [...job.events].reverse(), has_more: false })
      if (m[3] === 'checkpoints') return send(200, { object: 'list', data: [...job.checkpoints].reverse(), has_more: false })
      if (m[3] === 'pause' || m[3] === 'resume') {
        const from = m[3] === 'pause' ? 'running' : 'paused'
        if (job.status !== from) return send(400, { error: { message: `Cannot ${m[3]} a job that is ${job.status}.`, type: 'invalid_request_error', param: null, code: null } })
        job.status = m[3] === 'pause' ? 'paused' : 'running'
        pauses.push(`${m[3]} ${job.id}`)
        return send(200, view(job))
      }
      if (m[3] === 'cancel') {
        job.status = 'cancelled'
        return send(200, view(job))
      }
      return send(200, view(job))
    }
    if (req.method === 'DELETE' && path.startsWith('/models/')) {
      const model = decodeURIComponent(path.slice('/models/'.length))
      deletedModels.push(model)
      return send(200, { id: model, object: 'model', deleted: true })
    }
    if (req.method === 'POST' && path === '/chat/completions') {
      const body = JSON.parse(raw.toString())
      chats.push({ model: body.model })
      return send(200, {
        id: 'chatcmpl-up', object: 'chat.completion', created: 1, model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: 'tuned answer', refusal: null }, finish_reason: 'stop', logprobs: null }],
        usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
      })
    }
    send(404, { error: { message: `no route ${req.method} ${path}`, type: 'invalid_request_error', param: null, code: null } })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port

  function view(job: Job) {
    return {
      object: 'fine_tuning.job', id: job.id, model: job.model, status: job.status, fine_tuned_model: job.fine_tuned_model,
      trained_tokens: job.trained_tokens, training_file: job.training_file, estimated_finish: null, error: null,
      hyperparameters: { n_epochs: 2, batch_size: 1, learning_rate_multiplier: 1.8 },
      method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 2, batch_size: 1, learning_rate_multiplier: 1.8 } } },
    }
  }

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    files,
    jobs,
    chats,
    deletedModels,
    /** the pause and resume calls made ('pause <id>', 'resume <id>') */
    pauses,
    /** Moves every unfinished job one stage on. */
    advance() {
      for (const job of jobs.values()) {
        if (job.status === 'validating_files') job.status = 'queued'
        else if (job.status === 'queued') {
          job.status = 'running'
          job.events.push({ id: `ev-${++n}`, created_at: 2, level: 'info', message: 'Step 1/2: training loss=1.5', type: 'metrics', data: { step: 1, train_loss: 1.5, total_steps: 2 } })
          job.checkpoints.push({ id: `ftckpt_up${++n}`, object: 'fine_tuning.job.checkpoint', created_at: 2, fine_tuned_model_checkpoint: `ft:${job.model}:up-org::abc:ckpt-step-1`, step_number: 1, metrics: { step: 1, train_loss: 1.5 }, fine_tuning_job_id: job.id })
        } else if (job.status === 'running') {
          job.status = 'succeeded'
          job.fine_tuned_model = `ft:${job.model}:up-org::abc`
          job.trained_tokens = 1234
          job.events.push({ id: `ev-${++n}`, created_at: 3, level: 'info', message: 'Step 2/2: training loss=0.5', type: 'metrics', data: { step: 2, train_loss: 0.5, total_steps: 2 } })
          job.events.push({ id: `ev-${++n}`, created_at: 3, level: 'info', message: 'The job has successfully completed', type: 'message', data: {} })
        }
      }
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}
