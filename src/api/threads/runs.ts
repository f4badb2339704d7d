import type { Context } from 'hono'
import type { AppContext } from '../../context.js'
import type { Started } from '../../domain/assistants/runs.js'
import { readJson, readQuery } from '../../http/body.js'
import type { AppEnv } from '../../http/env.js'
import { assistantsVersion } from '../../http/openai-beta.js'
import { toApiError } from '../../http/render-error.js'
import type { RouteDef } from '../../http/routes.js'
import { primedSse } from '../../http/sse.js'
import {
  RunCreateQuery,
  RunCreateV1,
  RunCreateV2,
  RunStepGetQuery,
  RunStepsListQuery,
  RunsListQuery,
  RunUpdate,
  SubmitToolOutputs,
  ThreadAndRunCreateV1,
  ThreadAndRunCreateV2,
} from '../../schemas/runs.js'
import { readVersioned } from '../assistants-shared.js'
import { bodyLimit, projectPrincipal } from '../shared.js'

/** A started run: its object, or with `stream` its events (`event: done` at the end). */
function runAnswer(c: Context<AppEnv>, started: Started) {
  if (!started.events) return c.json(started.run)
  const requestId = c.var.requestId
  return primedSse(c, started.events, {
    end: 'event-done',
    errorEvent: 'event',
    toApiError: (error) => toApiError(error, requestId),
  })
}

/** /v1/threads/runs and /v1/threads/{thread_id}/runs/..., both versions of the beta. */
export function runsRoutes(ctx: AppContext): RouteDef[] {
  const { runs } = ctx.services.assistants
  return [
    {
      // spec: createThreadAndRun
      method: 'POST',
      path: '/threads/runs',
      operationId: 'createThreadAndRun',
      scope: 'project',
      handler: async (c) => {
        const input = await readVersioned(c, bodyLimit(ctx), {
          v1: ThreadAndRunCreateV1,
          v2: ThreadAndRunCreateV2,
        })
        const principal = projectPrincipal(c)
        // a run bills its turns as it goes, outside reserve: a reached spend limit refuses it here
        ctx.services.limits.spend.check(principal)
        return runAnswer(c, await runs.createThreadAndRun(principal, input))
      },
    },
    {
      // spec: createRun
      method: 'POST',
      path: '/threads/{thread_id}/runs',
      operationId: 'createRun',
      scope: 'project',
      handler: async (c) => {
        const { include } = readQuery(c, RunCreateQuery)
        const input = await readVersioned(c, bodyLimit(ctx), { v1: RunCreateV1, v2: RunCreateV2 })
        const threadId = c.req.param('thread_id')!
        const content = include?.includes(RESULT_CONTENT) ?? false
        const principal = projectPrincipal(c)
        ctx.services.limits.spend.check(principal)
        return runAnswer(c, await runs.create(principal, threadId, input, content))
      },
    },
    {
      // spec: listRuns
      method: 'GET',
      path: '/threads/{thread_id}/runs',
      operationId: 'listRuns',
      scope: 'project',
      handler: async (c) => {
        const version = assistantsVersion(c)
        const query = readQuery(c, RunsListQuery)
        const threadId = c.req.param('thread_id')!
        return c.json(await runs.list(projectPrincipal(c), threadId, query, version))
      },
    },
    {
      // spec: getRun
      method: 'GET',
      path: '/threads/{thread_id}/runs/{run_id}',
      operationId: 'getRun',
      scope: 'project',
      handler: async (c) => {
        const version = assistantsVersion(c)
        const { thread_id, run_id } = c.req.param()
        return c.json(await runs.get(projectPrincipal(c), thread_id, run_id, version))
      },
    },
    {
      // spec: modifyRun
      method: 'POST',
      path: '/threads/{thread_id}/runs/{run_id}',
      operationId: 'modifyRun',
      scope: 'project',
      handler: async (c) => {
        const version = assistantsVersion(c)
        const params = await readJson(c, RunUpdate, bodyLimit(ctx))
        const { thread_id, run_id } = c.req.param()
        return c.json(await runs.update(projectPrincipal(c), thread_id, run_id, params, version))
      },
    },
    {
      // spec: cancelRun
      method: 'POST',
      path: '/threads/{thread_id}/runs/{run_id}/cancel',
      operationId: 'cancelRun',
      scope: 'project',
      handler: async (c) => {
        const version = assistantsVersion(c)
        const { thread_id, run_id } = c.req.param()
        return c.json(await runs.cancel(projectPrincipal(c), thread_id, run_id, version))
      },
    },
    {
      // spec: submitToolOuputsToRun
      method: 'POST',
      path: '/threads/{thread_id}/runs/{run_id}/submit_tool_outputs',
      operationId: 'submitToolOuputsToRun',
      scope: 'project',
      handler: async (c) => {
        const version = assistantsVersion(c)
        const params = await readJson(c, SubmitToolOutputs, bodyLimit(ctx))
        const { thread_id, run_id } = c.req.param()
        const principal = projectPrincipal(c)
        // the run's next turns bill: as at its creation
        ctx.services.limits.spend.check(principal)
        const started = await runs.submitToolOutputs(principal, thread_id, run_id, params, version)
        return runAnswer(c, started)
      },
    },
    {
      // spec: listRunSteps
      method: 'GET',
      path: '/threads/{thread_id}/runs/{run_id}/steps',
      operationId: 'listRunSteps',
      scope: 'project',
      handler: async (c) => {
        const version = assistantsVersion(c)
        const { include, ...query } = readQuery(c, RunStepsListQuery)
        const { thread_id, run_id } = c.req.param()
        const view = { version, content: include?.includes(RESULT_CONTENT) }
        return c.json(await runs.listSteps(projectPrincipal(c), thread_id, run_id, query, view))
      },
    },
    {
      // spec: getRunStep
      method: 'GET',
      path: '/threads/{thread_id}/runs/{run_id}/steps/{step_id}',
      operationId: 'getRunStep',
      scope: 'project',
      handler: async (c) => {
        const version = assistantsVersion(c)
        const { include } = readQuery(c, RunStepGetQuery)
        const { thread_id, run_id, step_id } = c.req.param()
        const view = { version, content: include?.includes(RESULT_CONTENT) }
        return c.json(await runs.getStep(projectPrincipal(c), thread_id, run_id, step_id, view))
      },
    },
  ]
}

/** The `include[]` value that shows file search results' content in run steps. */
const RESULT_CONTENT = 'step_details.tool_calls[*].file_search.results[*].content'
