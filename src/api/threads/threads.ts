import type { AppContext } from '../../context.js'
import { assistantsVersion } from '../../http/openai-beta.js'
import type { RouteDef } from '../../http/routes.js'
import {
  ThreadCreateV1,
  ThreadCreateV2,
  ThreadUpdateV1,
  ThreadUpdateV2,
} from '../../schemas/threads.js'
import { readVersioned } from '../assistants-shared.js'
import { bodyLimit, projectPrincipal } from '../shared.js'

/** /v1/threads without runs (create-and-run is the run engine's), both versions of the beta. */
export function threadsRoutes(ctx: AppContext): RouteDef[] {
  const { threads } = ctx.services.assistants
  return [
    {
      // spec: createThread
      method: 'POST',
      path: '/threads',
      operationId: 'createThread',
      scope: 'project',
      handler: async (c) => {
        const input = await readVersioned(c, bodyLimit(ctx), {
          v1: ThreadCreateV1,
          v2: ThreadCreateV2,
        })
        return c.json(await threads.create(projectPrincipal(c), input))
      },
    },
    {
      // spec: getThread
      method: 'GET',
      path: '/threads/{thread_id}',
      operationId: 'getThread',
      scope: 'project',
      handler: async (c) => {
        const version = assistantsVersion(c)
        const id = c.req.param('thread_id')!
        return c.json(await threads.get(projectPrincipal(c), id, version))
      },
    },
    {
      // spec: modifyThread
      method: 'POST',
      path: '/threads/{thread_id}',
      operationId: 'modifyThread',
      scope: 'project',
      handler: async (c) => {
        const input = await readVersioned(c, bodyLimit(ctx), {
          v1: ThreadUpdateV1,
          v2: ThreadUpdateV2,
        })
        const id = c.req.param('thread_id')!
        return c.json(await threads.update(projectPrincipal(c), id, input))
      },
    },
    {
      // spec: deleteThread
      method: 'DELETE',
      path: '/threads/{thread_id}',
      operationId: 'deleteThread',
      scope: 'project',
      handler: async (c) => {
        assistantsVersion(c)
        const id = c.req.param('thread_id')!
        return c.json(await threads.delete(projectPrincipal(c), id))
      },
    },
  ]
}
