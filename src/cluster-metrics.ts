import { AggregatorRegistry, Gauge } from 'prom-client'
import { workerSnapshot, type MetricsSnapshot } from './metrics.js'
import type { IpcChannel } from './storage/limits/ipc.js'

/**
 * GET /metrics under `plinth serve --workers N`: each worker has its own registry, so the worker
 * that takes a scrape asks the primary, which collects every ready worker's metrics over IPC and
 * answers with their aggregate (prom-client's AggregatorRegistry.aggregate; what is summed and
 * what is labelled per worker: metrics.ts, workerSnapshot). Its own messages (`plinthMetrics`),
 * on the same channels as the rate limits' (storage/limits/ipc.ts) but apart from them.
 */

type WorkerToPrimary =
  | { plinthMetrics: 'scrape'; id: number }
  | { plinthMetrics: 'collected'; id: number; metrics: MetricsSnapshot }
type PrimaryToWorker =
  | { plinthMetrics: 'collect'; id: number }
  | { plinthMetrics: 'scraped'; id: number; text?: string; error?: string }

/** How long the primary waits for the workers' metrics: one that has not answered is left out. */
const COLLECT_TIMEOUT_MS = 2000
/** How long a worker waits for the primary's aggregate before the scrape fails. */
const SCRAPE_TIMEOUT_MS = 5000

type Collection = { replies: MetricsSnapshot[]; waiting: number; done(): void }

/** The primary's side: answers the workers' scrapes with every ready worker's metrics. */
export class ClusterMetrics {
  private nextId = 1
  private readonly collections = new Map<number, Collection>()

  /** `workers`: the channels of the workers that are ready (listening) now. */
  constructor(
    private readonly workers: () => IpcChannel[],
    private readonly timeoutMs = COLLECT_TIMEOUT_MS,
  ) {}

  /** Listens to one worker (its scrapes and its answers); returns a function that stops. */
  serve(channel: IpcChannel): () => void {
    const onMessage = (message: WorkerToPrimary) => {
      if (message?.plinthMetrics === 'collected') {
        const collection = this.collections.get(message.id)
        if (!collection) return
        collection.replies.push(message.metrics)
        if (--collection.waiting === 0) collection.done()
      } else if (message?.plinthMetrics === 'scrape') {
        const reply = (answer: Omit<Extract<PrimaryToWorker, { plinthMetrics: 'scraped' }>, 'plinthMetrics' | 'id'>) =>
          channel.send({ plinthMetrics: 'scraped', id: message.id, ...answer } satisfies PrimaryToWorker, ignore)
        this.text().then(
          (text) => reply({ text }),
          (error: Error) => reply({ error: error.message }),
        )
      }
    }
    channel.on('message', onMessage)
    return () => channel.off('message', onMessage)
  }

  /** The aggregate of every ready worker's metrics, in Prometheus' text format. */
  async text(): Promise<string> {
    const targets = this.workers()
    const id = this.nextId++
    const replies: MetricsSnapshot[] = []
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.timeoutMs)
      const collection: Collection = {
        replies,
        waiting: targets.length,
        done: () => {
          clearTimeout(timer)
          resolve()
        },
      }
      this.collections.set(id, collection)
      if (!targets.length) collection.done()
      for (const target of targets) {
        target.send({ plinthMetrics: 'collect', id } satisfies PrimaryToWorker, (error) => {
          if (error && --collection.waiting === 0) collection.done()
        })
      }
    })
    this.collections.delete(id)
    const aggregate = AggregatorRegistry.aggregate(replies)
    // a worker that did not answer in time (busy, dying) is missing from the sums: said here
    const workers = new Gauge({
      name: 'plinth_cluster_workers',
      help: 'Workers whose metrics this scrape holds (answered) or lacks (missing: no answer in time).',
      labelNames: ['state'],
      registers: [aggregate],
    })
    workers.set({ state: 'answered' }, replies.length)
    workers.set({ state: 'missing' }, targets.length - replies.length)
    return aggregate.metrics()
  }
}

/** A worker's side: answers the primary's collections, and scrapes through it. */
export function workerMetrics(channel: IpcChannel, worker: number, timeoutMs = SCRAPE_TIMEOUT_MS) {
  let nextId = 1
  const pending = new Map<number, { resolve(text: string): void; reject(error: Error): void }>()
  const onMessage = (message: PrimaryToWorker) => {
    if (message?.plinthMetrics === 'collect') {
      void workerSnapshot(worker).then((metrics) =>
        channel.send({ plinthMetrics: 'collected', id: message.id, metrics } satisfies WorkerToPrimary, ignore),
      )
    } else if (message?.plinthMetrics === 'scraped') {
      const call = pending.get(message.id)
      if (!call) return
      pending.delete(message.id)
      if (message.text !== undefined) call.resolve(message.text)
      else call.reject(new Error(`the primary process could not aggregate the metrics: ${message.error}`))
    }
  }
  channel.on('message', onMessage)
  return {
    scrape(): Promise<string> {
      const id = nextId++
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id)
          reject(new Error(`the primary process did not answer the scrape within ${timeoutMs} ms`))
        }, timeoutMs)
        const settle = { resolve: (text: string) => (clearTimeout(timer), resolve(text)), reject: (error: Error) => (clearTimeout(timer), reject(error)) }
        pending.set(id, settle)
        channel.send({ plinthMetrics: 'scrape', id } satisfies WorkerToPrimary, (error) => {
          if (!error) return
          pending.delete(id)
          settle.reject(error)
        })
      })
    },
    stop() {
      channel.off('message', onMessage)
      for (const call of pending.values()) call.reject(new Error('the metrics channel is closed'))
      pending.clear()
    },
  }
}

/** A worker that died while a message was on its way: nothing to do. */
function ignore() {}
