import type { Context } from 'hono'
import type { AppContext } from '../../context.js'
import { readJson, readQuery } from '../../http/body.js'
import type { AppEnv } from '../../http/env.js'
import type { RouteDef } from '../../http/routes.js'
import { FileBatchCreateParams, VectorStoreFileListQuery } from '../../schemas/vector-stores.js'
import { bodyLimit, projectPrincipal } from '../shared.js'
import { pollAfter } from './files.js'

/** File batches of a vector store (docs/vector-stores.md). */
export function vectorStoreFileBatchesRoutes(ctx: AppContext): RouteDef[] {
  const stores = ctx.services.retrieval.vectorStores
  const store = (c: Context<AppEnv>) => c.req.param('vector_store_id')!
  const batch = (c: Context<AppEnv>) => c.req.param('batch_id')!
  return [
    {
      // spec: createVectorStoreFileBatch
      method: 'POST',
      path: '/vector_stores/{vector_store_id}/file_batches',
      operationId: 'createVectorStoreFileBatch',
      scope: 'project',
      handler: async (c) => {
        const params = await readJson(c, FileBatchCreateParams, bodyLimit(ctx))
        const created = await stores.createBatch(projectPrincipal(c), store(c), params)
        pollAfter(c)
        return c.json(created)
      },
    },
    {
      // spec: getVectorStoreFileBatch
      method: 'GET',
      path: '/vector_stores/{vector_store_id}/file_batches/{batch_id}',
      operationId: 'getVectorStoreFileBatch',
      scope: 'project',
      handler: async (c) => {
        const found = await stores.getBatch(projectPrincipal(c), store(c), batch(c))
        pollAfter(c)
        return c.json(found)
      },
    },
    {
      // spec: cancelVectorStoreFileBatch
      method: 'POST',
      path: '/vector_stores/{vector_store_id}/file_batches/{batch_id}/cancel',
      operationId: 'cancelVectorStoreFileBatch',
      scope: 'project',
      handler: async (c) => c.json(await stores.cancelBatch(projectPrincipal(c), store(c), batch(c))),
    },
    {
      // spec: listFilesInVectorStoreBatch
      method: 'GET',
      path: '/vector_stores/{vector_store_id}/file_batches/{batch_id}/files',
      operationId: 'listFilesInVectorStoreBatch',
      scope: 'project',
      handler: async (c) =>
        c.json(await stores.listBatchFiles(projectPrincipal(c), store(c), batch(c), readQuery(c, VectorStoreFileListQuery))),
    },
  ]
}
