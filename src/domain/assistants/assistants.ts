import { assistantNotFound, modelNotFound, unsupportedAssistantModel } from '../../errors.js'
import type { ProjectPrincipal } from '../../principal.js'
import type {
  AssistantCreateV1,
  AssistantCreateV2,
  AssistantObject,
  AssistantsListQuery,
  AssistantUpdateV1,
  AssistantUpdateV2,
  ToolResources,
} from '../../schemas/assistants.js'
import type { ListPage } from '../../schemas/shared.js'
import { checkChatStrictSchemas } from '../../schemas/strict-schema.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'
import { listOf } from './pages.js'
import { assistantRecord, assistantRow, type ApiVersion, type AssistantRecord } from './records.js'
import { checkIdPrefix, type References } from './references.js'
import {
  assistantCreateInput,
  assistantObject,
  assistantUpdateInput,
  fileIdsOf,
  type Versioned,
} from './versions.js'

export type AssistantsDeps = {
  storage: Storage
  references: References
  /** Whether the caller may use the model (context.ts: the registry and the project's policy). */
  hasModel(principal: ProjectPrincipal, model: string): boolean
  isChatModel(model: string): boolean
}

/** Assistants, in either version of the beta; stored once, in the v2 form (versions.ts). */
export class AssistantsService {
  constructor(private readonly deps: AssistantsDeps) {}

  // spec: createAssistant
  async create(
    principal: ProjectPrincipal,
    input: Versioned<AssistantCreateV1, AssistantCreateV2>,
  ): Promise<AssistantObject> {
    const params = assistantCreateInput(input)
    checkChatStrictSchemas(params)
    this.checkModel(principal, params.model)
    const projectId = principal.projectId
    return this.deps.storage.transaction(async (tx) => {
      const now = nowSeconds()
      const toolResources = await this.deps.references.resolve(tx, projectId, params.tool_resources)
      const record: AssistantRecord = {
        id: newId('asst_'),
        projectId,
        createdAt: now,
        name: params.name ?? null,
        description: params.description ?? null,
        model: params.model,
        instructions: params.instructions ?? null,
        tools: params.tools ?? [],
        toolResources,
        fileAttachedAt: attachedAt(toolResources, {}, now),
        metadata: params.metadata ?? {},
        temperature: params.temperature ?? null,
        topP: params.top_p ?? null,
        responseFormat: params.response_format ?? null,
        reasoningEffort: params.reasoning_effort ?? null,
      }
      await createRepos(tx.db).assistants.insert(assistantRow(record))
      return assistantObject(record, input.version)
    })
  }

  // spec: listAssistants
  async list(
    principal: ProjectPrincipal,
    query: AssistantsListQuery,
    version: ApiVersion,
  ): Promise<ListPage<AssistantObject>> {
    const page = await createRepos(this.deps.storage.db).assistants.list(principal.projectId, query)
    return listOf(page, (row) => assistantObject(assistantRecord(row), version))
  }

  // spec: getAssistant
  async get(
    principal: ProjectPrincipal,
    id: string,
    version: ApiVersion,
  ): Promise<AssistantObject> {
    return assistantObject(await this.load(principal.projectId, id), version)
  }

  // spec: modifyAssistant. Fields left out keep their value; null resets to the default.
  async update(
    principal: ProjectPrincipal,
    id: string,
    input: Versioned<AssistantUpdateV1, AssistantUpdateV2>,
  ): Promise<AssistantObject> {
    checkIdPrefix('assistant_id', id, 'asst')
    const params = assistantUpdateInput(input)
    checkChatStrictSchemas(params)
    if (params.model !== undefined) this.checkModel(principal, params.model)
    const projectId = principal.projectId
    return this.deps.storage.transaction(async (tx) => {
      const repo = createRepos(tx.db).assistants
      if (!(await repo.lock(projectId, id))) throw assistantNotFound(id)
      const current = assistantRecord((await repo.get(projectId, id))!)
      const toolResources = await this.deps.references.resolve(
        tx,
        projectId,
        params.tool_resources,
        current.toolResources,
      )
      const record: AssistantRecord = {
        ...current,
        model: params.model ?? current.model,
        name: keep(params.name, current.name, null),
        description: keep(params.description, current.description, null),
        instructions: keep(params.instructions, current.instructions, null),
        tools: params.tools ?? current.tools,
        toolResources,
        fileAttachedAt: attachedAt(toolResources, current.fileAttachedAt, nowSeconds()),
        metadata: keep(params.metadata, current.metadata, {}),
        temperature: keep(params.temperature, current.temperature, null),
        topP: keep(params.top_p, current.topP, null),
        responseFormat: keep(params.response_format, current.responseFormat, null),
        reasoningEffort: keep(params.reasoning_effort, current.reasoningEffort, null),
      }
      const { id: _, project_id, created_at, ...patch } = assistantRow(record)
      await repo.update(projectId, id, patch)
      return assistantObject(record, input.version)
    })
  }

  // spec: deleteAssistant. Messages and runs that name the assistant keep its id.
  async delete(principal: ProjectPrincipal, id: string) {
    checkIdPrefix('assistant_id', id, 'asst')
    const deleted = await createRepos(this.deps.storage.db).assistants.delete(
      principal.projectId,
      id,
    )
    if (!deleted) throw assistantNotFound(id)
    return { id, object: 'assistant.deleted' as const, deleted: true }
  }

  /** The stored assistant (for the run engine and the v1 files), or G3. */
  async load(projectId: string, id: string, storage = this.deps.storage): Promise<AssistantRecord> {
    checkIdPrefix('assistant_id', id, 'asst')
    const row = await createRepos(storage.db).assistants.get(projectId, id)
    if (!row) throw assistantNotFound(id)
    return assistantRecord(row)
  }

  private checkModel(principal: ProjectPrincipal, model: string) {
    if (!this.deps.hasModel(principal, model)) throw modelNotFound(model)
    // an embeddings model would be accepted here and fail every run later
    if (!this.deps.isChatModel(model)) throw unsupportedAssistantModel(model)
  }
}

/** A modify field: left out keeps the value, null resets it. */
function keep<T>(given: T | null | undefined, current: T, reset: T): T {
  return given === undefined ? current : (given ?? reset)
}

/** Attachment times of the code interpreter's files: kept for files already there, else now. */
function attachedAt(
  resources: ToolResources,
  before: Record<string, number>,
  now: number,
): Record<string, number> {
  return Object.fromEntries(fileIdsOf(resources).map((id) => [id, before[id] ?? now]))
}
