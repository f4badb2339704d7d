import {
  fileNotFound,
  invalidIdPrefix,
  vectorStoreIdsAndHelper,
  vectorStoreNotFound,
} from '../../errors.js'
import type {
  ToolResources,
  ToolResourcesCreate,
  ToolResourcesUpdate,
  VectorStoreHelper,
} from '../../schemas/assistants.js'
import { nowSeconds } from '../../storage/ids.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'

/** What the Vector stores feature lends the Assistants API (context.ts wires it in). */
export interface VectorStoreAccess {
  /** Looks in `storage` (the caller's transaction: on SQLite the pool would wait for it). */
  exists(storage: Storage, projectId: string, id: string): Promise<boolean>
  /** The `vector_stores` helper: makes a vector store of the files, in `storage`'s transaction. */
  create(storage: Storage, projectId: string, helper: VectorStoreHelper): Promise<string>
  /** Adds files to a store (false: the store is gone), in `storage`'s transaction. */
  add(storage: Storage, projectId: string, id: string, fileIds: string[]): Promise<boolean>
}

/** G5: an id of the wrong kind is a 400 before any lookup. */
export function checkIdPrefix(param: string, value: string, prefix: string) {
  if (!value.startsWith(prefix)) throw invalidIdPrefix(param, value, prefix)
}

/** Files and vector stores named by assistants, threads and messages must exist in the project. */
export class References {
  constructor(private readonly vectorStores: VectorStoreAccess) {}

  /** F1 for the first file that is not in the project (or has expired). */
  async checkFiles(storage: Storage, projectId: string, fileIds: Iterable<string>) {
    const files = createRepos(storage.db).files
    const now = nowSeconds()
    for (const id of new Set(fileIds)) {
      if (!(await files.get(projectId, id, now))) throw fileNotFound(id)
    }
  }

  /**
   * The thread's resources once messages' file_search attachments are in its vector store, as
   * OpenAI puts them: the thread's (first) store, or a new one when it has none. Unchanged when
   * no attachment is for file_search.
   */
  async withAttachments(
    storage: Storage,
    projectId: string,
    resources: ToolResources,
    messages: readonly { attachments: readonly { file_id: string; tools: readonly { type: string }[] }[] }[],
  ): Promise<ToolResources> {
    const fileIds = messages.flatMap((m) =>
      m.attachments.filter((a) => a.tools.some((tool) => tool.type === 'file_search')).map((a) => a.file_id),
    )
    if (!fileIds.length) return resources
    const stores = this.vectorStores
    const current = resources.file_search?.vector_store_ids ?? []
    if (current.length && (await stores.add(storage, projectId, current[0], fileIds))) return resources
    const id = await stores.create(storage, projectId, { file_ids: [...new Set(fileIds)] })
    return { ...resources, file_search: { vector_store_ids: [id, ...current.slice(1)] } }
  }

  /**
   * `tool_resources` of a request on top of what the object has: each tool given replaces its
   * list, a tool left out keeps it. Every file and vector store named is checked, and the
   * `vector_stores` helper runs, in `storage` (the caller's transaction).
   */
  async resolve(
    storage: Storage,
    projectId: string,
    given: ToolResourcesCreate | ToolResourcesUpdate | null | undefined,
    base: ToolResources = {},
  ): Promise<ToolResources> {
    if (!given) return base
    const out: ToolResources = { ...base }
    if (given.code_interpreter) {
      const fileIds = given.code_interpreter.file_ids ?? []
      await this.checkFiles(storage, projectId, fileIds)
      out.code_interpreter = { file_ids: [...new Set(fileIds)] }
    }
    if (given.file_search) {
      const search = given.file_search
      const helpers = 'vector_stores' in search ? (search.vector_stores ?? []) : []
      const param = 'tool_resources.file_search'
      if (search.vector_store_ids && helpers.length) throw vectorStoreIdsAndHelper(param)
      const ids = [...(search.vector_store_ids ?? [])]
      for (const id of ids) {
        if (!(await this.vectorStores.exists(storage, projectId, id))) throw vectorStoreNotFound(id)
      }
      for (const helper of helpers) {
        await this.checkFiles(storage, projectId, helper.file_ids ?? [])
        ids.push(await this.vectorStores.create(storage, projectId, helper))
      }
      out.file_search = { vector_store_ids: ids }
    }
    return out
  }
}
