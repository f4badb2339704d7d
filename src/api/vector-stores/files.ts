import type { Context } from 'hono'
import type { AppContext } from '../../context.js'
import { readJson, readQuery } from '../../http/body.js'
import type { AppEnv } from '../../http/env.js'
import type { RouteDef } from '../../http/routes.js'
import {
  VectorStoreFileCreateParams,
  VectorStoreFileListQuery,
  VectorStoreFileUpdateParams,
} from '../../schemas/vector-stores.js'
import { bodyLimit, projectPrincipal } from '../shared.js'

/**
 * How soon the SDK's poll helpers (`createAndPoll`, `uploadAndPoll`) ask again; without it they
 * wait 5 s between polls. OpenAI sends the same header.
 */
export function pollAfter(c: Context<AppEnv>) {
  c.header('openai-poll-after-ms', '250')
}

/** Files in a vector store (docs/vector-stores.md). */
export function vectorStoreFilesRoutes(ctx: AppContext): RouteDef[] {
  const stores = ctx.services.retrieval.vectorStores
  const store = (c: Context<AppEnv>) => c.req.param('vector_store_id')!
  const file = (c: Context<AppEnv>) => c.req.param('file_id')!
  return [
    {
      // spec: createVectorStoreFile
      method: 'POST',
      path: '/vector_stores/{vector_store_id}/files',
      operationId: 'createVectorStoreFile',
      scope: 'project',
      handler: async (c) => {
        const params = await readJson(c, VectorStoreFileCreateParams, bodyLimit(ctx))
        pollAfter(c)
        return c.json(await stores.createFile(projectPrincipal(c), store(c), params))
      },
    },
    {
      // spec: listVectorStoreFiles
      method: 'GET',
      path: '/vector_stores/{vector_store_id}/files',
      operationId: 'listVectorStoreFiles',
      scope: 'project',
      handler: async (c) =>
        c.json(await stores.listFiles(projectPrincipal(c), store(c), readQuery(c, VectorStoreFileListQuery))),
    },
    {
      // spec: getVectorStoreFile
      method: 'GET',
      path: '/vector_stores/{vector_store_id}/files/{file_id}',
      operationId: 'getVectorStoreFile',
      scope: 'project',
      handler: async (c) => {
        const found = await stores.getFile(projectPrincipal(c), store(c), file(c))
        pollAfter(c)
        return c.json(found)
      },
    },
    {
      // spec: updateVectorStoreFileAttributes
      method: 'POST',
      path: '/vector_stores/{vector_store_id}/files/{file_id}',
      operationId: 'updateVectorStoreFileAttributes',
      scope: 'project',
      handler: async (c) => {
        const params = await readJson(c, VectorStoreFileUpdateParams, bodyLimit(ctx))
        return c.json(await stores.updateFile(projectPrincipal(c), store(c), file(c), params.attributes))
      },
    },
    {
      // spec: deleteVectorStoreFile
      method: 'DELETE',
      path: '/vector_stores/{vector_store_id}/files/{file_id}',
      operationId: 'deleteVectorStoreFile',
      scope: 'project',
      handler: async (c) => c.json(await stores.deleteFile(projectPrincipal(c), store(c), file(c))),
    },
    {
      // spec: retrieveVectorStoreFileContent
      method: 'GET',
      path: '/vector_stores/{vector_store_id}/files/{file_id}/content',
      operationId: 'retrieveVectorStoreFileContent',
      scope: 'project',
      handler: async (c) => c.json(await stores.fileContent(projectPrincipal(c), store(c), file(c))),
    },
  ]
}
