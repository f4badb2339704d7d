import { z } from 'zod'
import { INGEST_JOB, PURGE_JOB, type RetrievalServices } from '../domain/retrieval/index.js'
import type { Jobs } from './index.js'

/**
 * Vector stores in the background (docs/vector-stores.md): a file's ingestion, the purge of what
 * was removed, and the leader's sweeps (expiry each minute, the usage snapshot every 10 minutes).
 */
export function registerVectorStoreJobs(jobs: Pick<Jobs, 'catalog' | 'leader'>, services: RetrievalServices) {
  jobs.catalog.register(INGEST_JOB, {
    payload: z.object({ projectId: z.string(), storeId: z.string(), attachmentId: z.string() }),
    leaseMs: 30_000,
    heartbeatMs: 5_000,
    // a crash mid-file uses one up; chunks already indexed are not embedded again
    maxAttempts: 5,
    backoff: { baseMs: 1_000, maxMs: 60_000 },
    handler: ({ payload, signal, job }) =>
      services.ingestion.run(payload, { signal, lastAttempt: job.attempt >= job.maxAttempts }),
  })
  jobs.catalog.register(PURGE_JOB, {
    payload: z.object({ storeId: z.string(), attachmentId: z.string().optional() }),
    maxAttempts: 10,
    handler: ({ payload, signal }) => services.maintenance.purge(payload, signal),
  })
  jobs.leader.register({
    name: 'vector_stores.expire',
    everyMs: 60_000,
    run: async () => void (await services.maintenance.expire()),
  })
  jobs.leader.register({
    name: 'vector_stores.usage',
    everyMs: 10 * 60_000,
    run: async () => void (await services.maintenance.recordUsage()),
  })
}
