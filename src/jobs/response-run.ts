import { z } from 'zod'
import { RESPONSE_JOB, type ResponseJob, type ResponsesService } from '../domain/responses/service.js'
import type { Jobs } from './index.js'

/** Background responses (docs/responses.md): response.run, a thin call into the domain. */
export function registerResponseJobs(jobs: Pick<Jobs, 'catalog'>, responses: ResponsesService) {
  jobs.catalog.register(RESPONSE_JOB, {
    // the request was checked when the response was created; the domain reads it as it was
    payload: z.custom<ResponseJob>((value) => typeof value === 'object' && value !== null && 'responseId' in value),
    // short, so a crashed node's response is taken over soon; a cancel is seen within heartbeatMs
    leaseMs: 10_000,
    heartbeatMs: 2_000,
    maxAttempts: 3,
    backoff: { baseMs: 500, maxMs: 10_000 },
    handler: ({ payload, signal, job }) => responses.runJob(payload, { signal, lastAttempt: job.attempt >= job.maxAttempts }),
  })
}
