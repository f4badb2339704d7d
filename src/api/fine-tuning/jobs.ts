import type { AppContext } from '../../context.js'
import { readJson, readQuery } from '../../http/body.js'
import type { RouteDef } from '../../http/routes.js'
import {
  FineTuningJobCreateParams,
  FineTuningJobListQuery,
  FineTuningPageQuery,
} from '../../schemas/fine-tuning.js'
import { bodyLimit, projectPrincipal } from '../shared.js'

const EventsQuery = FineTuningPageQuery(20)
const CheckpointsQuery = FineTuningPageQuery(10)

export function fineTuningJobsRoutes(ctx: AppContext): RouteDef[] {
  const { service } = ctx.services.fineTuning
  const id = (c: Parameters<RouteDef['handler']>[0]) => c.req.param('fine_tuning_job_id')!
  return [
    {
      // spec: createFineTuningJob
      method: 'POST',
      path: '/fine_tuning/jobs',
      operationId: 'createFineTuningJob',
      scope: 'project',
      handler: async (c) => {
        const params = await readJson(c, FineTuningJobCreateParams, bodyLimit(ctx))
        return c.json(await service.create(projectPrincipal(c), params))
      },
    },
    {
      // spec: listPaginatedFineTuningJobs
      method: 'GET',
      path: '/fine_tuning/jobs',
      operationId: 'listPaginatedFineTuningJobs',
      scope: 'project',
      handler: async (c) =>
        c.json(await service.list(projectPrincipal(c), readQuery(c, FineTuningJobListQuery))),
    },
    {
      // spec: retrieveFineTuningJob
      method: 'GET',
      path: '/fine_tuning/jobs/{fine_tuning_job_id}',
      operationId: 'retrieveFineTuningJob',
      scope: 'project',
      handler: async (c) => c.json(await service.get(projectPrincipal(c), id(c))),
    },
    {
      // spec: cancelFineTuningJob
      method: 'POST',
      path: '/fine_tuning/jobs/{fine_tuning_job_id}/cancel',
      operationId: 'cancelFineTuningJob',
      scope: 'project',
      handler: async (c) => c.json(await service.cancel(projectPrincipal(c), id(c))),
    },
    {
      // SDK 6 (no operation of the spec file): jobs.pause
      method: 'POST',
      path: '/fine_tuning/jobs/{fine_tuning_job_id}/pause',
      operationId: 'pauseFineTuningJob',
      scope: 'project',
      extension: true,
      handler: async (c) => c.json(await service.pause(projectPrincipal(c), id(c))),
    },
    {
      // SDK 6 (no operation of the spec file): jobs.resume
      method: 'POST',
      path: '/fine_tuning/jobs/{fine_tuning_job_id}/resume',
      operationId: 'resumeFineTuningJob',
      scope: 'project',
      extension: true,
      handler: async (c) => c.json(await service.resume(projectPrincipal(c), id(c))),
    },
    {
      // spec: listFineTuningEvents
      method: 'GET',
      path: '/fine_tuning/jobs/{fine_tuning_job_id}/events',
      operationId: 'listFineTuningEvents',
      scope: 'project',
      handler: async (c) =>
        c.json(await service.events(projectPrincipal(c), id(c), readQuery(c, EventsQuery))),
    },
    {
      // spec: listFineTuningJobCheckpoints
      method: 'GET',
      path: '/fine_tuning/jobs/{fine_tuning_job_id}/checkpoints',
      operationId: 'listFineTuningJobCheckpoints',
      scope: 'project',
      handler: async (c) =>
        c.json(await service.checkpoints(projectPrincipal(c), id(c), readQuery(c, CheckpointsQuery))),
    },
  ]
}
