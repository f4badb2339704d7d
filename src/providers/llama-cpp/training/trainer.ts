import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker, type WorkerOptions } from 'node:worker_threads'
import type { TrainCall, TrainResult } from '../../training-backend.js'
import type { TrainJob } from './loop.js'
import type { WorkerMessage } from './train-worker.js'

/**
 * Runs `job` in a worker thread, so the server keeps serving while a core trains. Steps and
 * checkpoints reach the call's callbacks in order; the result waits for the last checkpoint's
 * callback. An abort terminates the worker at once (within milliseconds, whatever it computes)
 * and rejects with the signal's reason. A pause (`call.pause`) lets the worker finish its step and save
 * the adapter: the result then names it as `paused`.
 */
export function trainInWorker(job: TrainJob, call: Pick<TrainCall, 'signal' | 'pause' | 'onStep' | 'onCheckpoint'>): Promise<TrainResult> {
  return new Promise<TrainResult>((resolve, reject) => {
    if (call.signal.aborted) return reject(call.signal.reason)
    const started = performance.now()
    // the pause flag is shared memory: the worker's synchronous loop reads it between steps
    const pauseFlag = new SharedArrayBuffer(4)
    const worker = new Worker(...workerScript({ ...job, pauseFlag }))
    const onPause = () => Atomics.store(new Int32Array(pauseFlag), 0, 1)
    if (call.pause?.aborted) onPause()
    else call.pause?.addEventListener('abort', onPause, { once: true })
    let settled = false
    // callbacks run one after another, in the worker's order
    let chain: Promise<unknown> = Promise.resolve()
    const finish = (error: unknown, result?: TrainResult) => {
      if (settled) return
      settled = true
      call.signal.removeEventListener('abort', onAbort)
      call.pause?.removeEventListener('abort', onPause)
      void worker.terminate()
      if (error !== undefined) reject(error)
      else resolve(result!)
    }
    const onAbort = () => finish(call.signal.reason ?? new Error('training cancelled'))
    call.signal.addEventListener('abort', onAbort, { once: true })
    worker.on('message', (message: WorkerMessage) => {
      switch (message.type) {
        case 'step': {
          const { type: _, ...step } = message
          chain = chain.then(() => !settled && call.onStep({ ...step, elapsedMs: Math.round(performance.now() - started) }))
          break
        }
        case 'checkpoint': {
          const { type: _, ...checkpoint } = message
          chain = chain.then(() => !settled && call.onCheckpoint(checkpoint))
          break
        }
        case 'done':
          chain.then(
            () => finish(undefined, { adapterPath: message.adapterPath, trainedTokens: message.trainedTokens, steps: message.steps }),
            (error) => finish(error),
          )
          break
        case 'paused': {
          const { type: _, trainedTokens, ...checkpoint } = message
          chain.then(
            () => finish(undefined, { adapterPath: message.adapterPath, trainedTokens, steps: message.step, paused: checkpoint }),
            (error) => finish(error),
          )
          break
        }
        case 'error':
          chain.finally(() => finish(new Error(`training failed: ${message.message}`)))
          break
      }
      chain = chain.catch((error) => finish(error))
    })
    worker.on('error', (error) => finish(new Error(`training failed: ${error.message}`)))
    worker.on('exit', (code) => {
      if (!settled) chain.finally(() => finish(new Error(`the training worker exited (code ${code}) before it finished`)))
    })
  })
}

/** The compiled worker beside this module; under the TypeScript sources (tests, tsx), tsx's loader first. */
function workerScript(job: TrainJob): [string | URL, WorkerOptions] {
  const self = import.meta.url
  const options: WorkerOptions = { workerData: job }
  if (!self.endsWith('.ts')) return [new URL('./train-worker.js', self), options]
  const tsxDir = path.dirname(createRequire(self).resolve('tsx/package.json'))
  const api = pathToFileURL(path.join(tsxDir, 'dist/esm/api/index.mjs')).href
  const entry = new URL('./train-worker.ts', self).href
  const boot = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}) })`
  return [boot, { ...options, eval: true }]
}
