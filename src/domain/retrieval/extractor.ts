import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker, type WorkerOptions } from 'node:worker_threads'
import { jobLog } from '../../logger.js'
import type { Chunking } from './chunking.js'
import type { ExtractReply, ExtractTask } from './extract-worker.js'

export type ExtractResult = ExtractReply extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never

/**
 * Runs extraction and chunking in a worker thread (extract-worker.ts), one file at a time: the
 * main thread only sends the bytes and receives the chunks. The worker starts on first use and
 * stops after a minute idle (it holds the tokenizer, about 70 MB). A worker that dies (out of
 * memory on a huge file) fails the files it held with server_error and is started anew.
 */
export class Extractor {
  #worker: Worker | undefined
  #next = 1
  readonly #pending = new Map<number, (reply: ExtractReply) => void>()
  #idle: NodeJS.Timeout | undefined

  constructor(private readonly idleMs = 60_000) {}

  run(bytes: Uint8Array, filename: string, chunking: Chunking, maxTokens: number): Promise<ExtractResult> {
    const worker = this.worker()
    const id = this.#next++
    clearTimeout(this.#idle)
    return new Promise<ExtractReply>((resolve) => {
      this.#pending.set(id, resolve)
      const task: ExtractTask = { id, bytes, filename, chunking, maxTokens }
      // the bytes move to the worker rather than being copied
      const transfer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? [bytes.buffer as ArrayBuffer] : []
      worker.postMessage(task, transfer)
    }).then(({ id: _, ...result }) => {
      if (!this.#pending.size) this.#idle = setTimeout(() => void this.close(), this.idleMs).unref()
      return result as ExtractResult
    })
  }

  async close() {
    clearTimeout(this.#idle)
    const worker = this.#worker
    this.#worker = undefined
    await worker?.terminate()
  }

  private worker(): Worker {
    if (this.#worker) return this.#worker
    const worker = new Worker(...workerScript())
    worker.unref()
    worker.on('message', (reply: ExtractReply) => {
      const resolve = this.#pending.get(reply.id)
      this.#pending.delete(reply.id)
      resolve?.(reply)
    })
    const fail = (why: string) => {
      if (this.#worker === worker) this.#worker = undefined
      for (const [id, resolve] of this.#pending) resolve({ id, error: { code: 'server_error', message: `The file could not be processed: ${why}` } })
      this.#pending.clear()
    }
    worker.on('error', (error) => {
      jobLog.error({ err: error }, 'extraction worker failed')
      fail(error.message)
    })
    worker.on('exit', (code) => {
      if (this.#pending.size) fail(`the extraction worker exited (code ${code})`)
      else if (this.#worker === worker) this.#worker = undefined
    })
    this.#worker = worker
    return worker
  }
}

/**
 * The worker's script: the compiled .js next to this module; under the TypeScript sources (tests,
 * tsx) a small CommonJS bootstrap that registers tsx's loader in the worker, then imports the .ts.
 */
function workerScript(): [string | URL, WorkerOptions] {
  const self = import.meta.url
  if (!self.endsWith('.ts')) return [new URL('./extract-worker.js', self), {}]
  // tsx's ESM api (its CommonJS build resolves its own files wrongly from an eval'd script)
  const tsxDir = path.dirname(createRequire(self).resolve('tsx/package.json'))
  const api = pathToFileURL(path.join(tsxDir, 'dist/esm/api/index.mjs')).href
  const entry = new URL('./extract-worker.ts', self).href
  const boot = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}) })`
  return [boot, { eval: true }]
}
