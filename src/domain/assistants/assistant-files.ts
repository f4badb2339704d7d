import { assistantFileNotFound, assistantNotFound, tooManyAssistantFiles } from '../../errors.js'
import type { ProjectPrincipal } from '../../principal.js'
import type { AssistantFileObject, AssistantsListQuery } from '../../schemas/assistants.js'
import type { ListPage } from '../../schemas/shared.js'
import { nowSeconds } from '../../storage/ids.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'
import type { AssistantsService } from './assistants.js'
import { pageInMemory } from './pages.js'
import { assistantRecord, assistantRow, type AssistantRecord } from './records.js'
import { checkIdPrefix, type References } from './references.js'
import { assistantFileObject, fileIdsOf } from './versions.js'

const MAX_FILES = 20

/**
 * v1's assistant files: the same list as v2's `tool_resources.code_interpreter.file_ids`, one
 * AssistantFile per file, created when the file was attached.
 */
export class AssistantFilesService {
  constructor(
    private readonly deps: {
      storage: Storage
      references: References
      assistants: AssistantsService
    },
  ) {}

  // spec (v1): createAssistantFile. Attaching a file already there returns it as it is.
  async create(
    principal: ProjectPrincipal,
    assistantId: string,
    fileId: string,
  ): Promise<AssistantFileObject> {
    checkIdPrefix('assistant_id', assistantId, 'asst')
    const projectId = principal.projectId
    return this.deps.storage.transaction(async (tx) => {
      const repo = createRepos(tx.db).assistants
      // locked: two files attached at once must not both pass the 20-file check
      if (!(await repo.lock(projectId, assistantId))) throw assistantNotFound(assistantId)
      const current = assistantRecord((await repo.get(projectId, assistantId))!)
      await this.deps.references.checkFiles(tx, projectId, [fileId])
      const fileIds = fileIdsOf(current.toolResources)
      if (fileIds.includes(fileId)) return assistantFileObject(current, fileId)
      if (fileIds.length >= MAX_FILES) throw tooManyAssistantFiles(fileIds.length + 1, MAX_FILES)
      const record: AssistantRecord = {
        ...current,
        toolResources: {
          ...current.toolResources,
          code_interpreter: { file_ids: [...fileIds, fileId] },
        },
        fileAttachedAt: { ...current.fileAttachedAt, [fileId]: nowSeconds() },
      }
      const row = assistantRow(record)
      await repo.update(projectId, assistantId, {
        tool_resources: row.tool_resources,
        file_attached_at: row.file_attached_at,
      })
      return assistantFileObject(record, fileId)
    })
  }

  // spec (v1): listAssistantFiles
  async list(
    principal: ProjectPrincipal,
    assistantId: string,
    query: AssistantsListQuery,
  ): Promise<ListPage<AssistantFileObject>> {
    const assistant = await this.deps.assistants.load(principal.projectId, assistantId)
    const files = fileIdsOf(assistant.toolResources).map((id) => assistantFileObject(assistant, id))
    return pageInMemory(files, query)
  }

  // spec (v1): getAssistantFile
  async get(
    principal: ProjectPrincipal,
    assistantId: string,
    fileId: string,
  ): Promise<AssistantFileObject> {
    const assistant = await this.deps.assistants.load(principal.projectId, assistantId)
    if (!fileIdsOf(assistant.toolResources).includes(fileId)) throw assistantFileNotFound(fileId)
    return assistantFileObject(assistant, fileId)
  }

  // spec (v1): deleteAssistantFile. The File itself stays.
  async delete(principal: ProjectPrincipal, assistantId: string, fileId: string) {
    checkIdPrefix('assistant_id', assistantId, 'asst')
    const projectId = principal.projectId
    return this.deps.storage.transaction(async (tx) => {
      const repo = createRepos(tx.db).assistants
      if (!(await repo.lock(projectId, assistantId))) throw assistantNotFound(assistantId)
      const current = assistantRecord((await repo.get(projectId, assistantId))!)
      const fileIds = fileIdsOf(current.toolResources)
      if (!fileIds.includes(fileId)) throw assistantFileNotFound(fileId)
      const { [fileId]: _, ...attached } = current.fileAttachedAt
      const row = assistantRow({
        ...current,
        toolResources: {
          ...current.toolResources,
          code_interpreter: { file_ids: fileIds.filter((id) => id !== fileId) },
        },
        fileAttachedAt: attached,
      })
      await repo.update(projectId, assistantId, {
        tool_resources: row.tool_resources,
        file_attached_at: row.file_attached_at,
      })
      return { id: fileId, object: 'assistant.file.deleted' as const, deleted: true }
    })
  }
}
