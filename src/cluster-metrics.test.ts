import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import { parsePrometheus, sampleValue } from '../test/helpers/prometheus.js'
import { ClusterMetrics, workerMetrics } from './cluster-metrics.js'
import { upstreamErrors } from './metrics.js'
import type { IpcChannel } from './storage/limits/ipc.js'

/** Two ends of a channel; messages go through JSON and arrive in a later turn, as over IPC. */
function channelPair(): [IpcChannel & EventEmitter, IpcChannel & EventEmitter] {
  const ends = [new EventEmitter(), new EventEmitter()] as (IpcChannel & EventEmitter)[]
  ends.forEach((end, i) => {
    end.send = (message: unknown, callback?: (error: Error | null) => void) => {
      const copy = JSON.parse(JSON.stringify(message))
      setImmediate(() => {
        ends[1 - i].emit('message', copy)
        callback?.(null)
      })
      return true
    }
  })
  return [ends[0], ends[1]]
}

describe('ClusterMetrics', () => {
  it("sums the workers' counters, labels their own gauges, and says which did not answer", async () => {
    // two workers in this process (both report this registry) and a third that never answers
    const pairs = [channelPair(), channelPair(), channelPair()]
    const primary = new ClusterMetrics(() => pairs.map(([toWorker]) => toWorker), 200)
    for (const [toWorker] of pairs) primary.serve(toWorker)
    const workers = pairs.slice(0, 2).map(([, toPrimary], i) => workerMetrics(toPrimary, i + 1))
    upstreamErrors.inc({ upstream: 'cluster-test', status: '502' }, 3)
    try {
      const scrape = parsePrometheus(await workers[1].scrape())
      expect(sampleValue(scrape, 'plinth_upstream_errors_total', { upstream: 'cluster-test' })).toBe(6)
      expect(scrape.samples.filter((s) => s.name === 'nodejs_eventloop_lag_p99_seconds').map((s) => s.labels.worker).sort()).toEqual(['1', '2'])
      expect(sampleValue(scrape, 'plinth_cluster_workers', { state: 'answered' })).toBe(2)
      expect(sampleValue(scrape, 'plinth_cluster_workers', { state: 'missing' })).toBe(1)
    } finally {
      for (const worker of workers) worker.stop()
    }
  })

  it('fails a scrape the primary does not answer', async () => {
    const [, toPrimary] = channelPair()
    const worker = workerMetrics(toPrimary, 1, 50)
    await expect(worker.scrape()).rejects.toThrow(/did not answer the scrape within 50 ms/)
    worker.stop()
  })
})
