import type { AppContext } from '../../context.js'
import { readJson, readQuery } from '../../http/body.js'
import type { RouteDef } from '../../http/routes.js'
import {
  VectorStoreCreateParams,
  VectorStoreListQuery,
  VectorStoreSearchParams,
  VectorStoreUpdateParams,
} from '../../schemas/vector-stores.js'
import { bodyLimit, projectPrincipal } from '../shared.js'

/** Vector stores themselves, and search (docs/vector-stores.md). */
export function vectorStoresRoutes(ctx: AppContext): RouteDef[] {
  const stores = ctx.services.retrieval.vectorStores
  return [
    {
      // spec: createVectorStore
      method: 'POST',
      path: '/vector_stores',
      operationId: 'createVectorStore',
      scope: 'project',
      handler: async (c) =>
        c.json(await stores.create(projectPrincipal(c), await readJson(c, VectorStoreCreateParams, bodyLimit(ctx)))),
    },
    {
      // spec: listVectorStores
      method: 'GET',
      path: '/vector_stores',
      operationId: 'listVectorStores',
      scope: 'project',
      handler: async (c) => c.json(await stores.list(projectPrincipal(c), readQuery(c, VectorStoreListQuery))),
    },
    {
      // spec: getVectorStore
      method: 'GET',
      path: '/vector_stores/{vector_store_id}',
      operationId: 'getVectorStore',
      scope: 'project',
      handler: async (c) => c.json(await stores.get(projectPrincipal(c), c.req.param('vector_store_id')!)),
    },
    {
      // spec: modifyVectorStore
      method: 'POST',
      path: '/vector_stores/{vector_store_id}',
      operationId: 'modifyVectorStore',
      scope: 'project',
      handler: async (c) =>
        c.json(
          await stores.update(
            projectPrincipal(c),
            c.req.param('vector_store_id')!,
            await readJson(c, VectorStoreUpdateParams, bodyLimit(ctx)),
          ),
        ),
    },
    {
      // spec: deleteVectorStore
      method: 'DELETE',
      path: '/vector_stores/{vector_store_id}',
      operationId: 'deleteVectorStore',
      scope: 'project',
      handler: async (c) => c.json(await stores.delete(projectPrincipal(c), c.req.param('vector_store_id')!)),
    },
    {
      // spec: searchVectorStore
      method: 'POST',
      path: '/vector_stores/{vector_store_id}/search',
      operationId: 'searchVectorStore',
      scope: 'project',
      handler: async (c) =>
        c.json(
          await stores.search(
            projectPrincipal(c),
            c.req.param('vector_store_id')!,
            await readJson(c, VectorStoreSearchParams, bodyLimit(ctx)),
          ),
        ),
    },
  ]
}
