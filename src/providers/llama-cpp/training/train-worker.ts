import { parentPort, workerData } from 'node:worker_threads'
import { runTraining, type TrainEvent, type TrainJob } from './loop.js'

export type WorkerMessage = TrainEvent | { type: 'error'; message: string }

/**
 * The trainer's thread: one training run, then it exits. Started and ended (cancel: terminate)
 * by trainer.ts; each step, checkpoint and the end are posted back.
 */
const post = (message: WorkerMessage) => parentPort!.postMessage(message)
try {
  runTraining(workerData as TrainJob, post)
} catch (error) {
  post({ type: 'error', message: error instanceof Error ? error.message : String(error) })
}
