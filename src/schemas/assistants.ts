import { z } from 'zod'
import { queryInteger } from './query-integer.js'
import { FunctionDefinition, ResponseFormat } from './chat.js'
import { expected, ListOrder, Metadata } from './shared.js'

// Wire contract of /v1/assistants in both versions of the beta: v2 after openai-openapi.yaml,
// v1 after openai-openapi-2024-04-15-assistants-v1.yaml (docs/assistants.md).

const CodeInterpreterTool = z.strictObject({ type: z.literal('code_interpreter') })

const FileSearchTool = z.strictObject({
  type: z.literal('file_search'),
  file_search: z
    .strictObject({
      max_num_results: z.number().int().min(1).max(50).optional(),
      ranking_options: z
        .strictObject({
          ranker: z.enum(['auto', 'default_2024_08_21']).optional(),
          score_threshold: z.number().min(0).max(1),
        })
        .optional(),
    })
    .optional(),
})

/** v1's name for file search (no options). */
const RetrievalTool = z.strictObject({ type: z.literal('retrieval') })

const FunctionTool = z.strictObject({ type: z.literal('function'), function: FunctionDefinition })

export const AssistantToolV2 = z.discriminatedUnion('type', [
  CodeInterpreterTool,
  FileSearchTool,
  FunctionTool,
])
export type AssistantToolV2 = z.output<typeof AssistantToolV2>

export const AssistantToolV1 = z.discriminatedUnion('type', [
  CodeInterpreterTool,
  RetrievalTool,
  FunctionTool,
])
export type AssistantToolV1 = z.output<typeof AssistantToolV1>

const ChunkingStrategy = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('auto') }),
  z.strictObject({
    type: z.literal('static'),
    static: z.strictObject({
      max_chunk_size_tokens: z.number().int().min(100).max(4096),
      chunk_overlap_tokens: z.number().int(),
    }),
  }),
])

/** The `vector_stores` helper of create: a vector store made from files, then attached. */
export const VectorStoreHelper = z.strictObject({
  file_ids: z.array(z.string()).max(10000).optional(),
  chunking_strategy: ChunkingStrategy.optional(),
  metadata: Metadata.nullish(),
})
export type VectorStoreHelper = z.output<typeof VectorStoreHelper>

const CodeInterpreterResources = z.strictObject({
  file_ids: z.array(z.string()).max(20).optional(),
})

/** `tool_resources` of create (assistants and threads): vector stores by id or made on the spot. */
export const ToolResourcesCreate = z.strictObject({
  code_interpreter: CodeInterpreterResources.optional(),
  file_search: z
    .strictObject({
      vector_store_ids: z.array(z.string()).max(1).optional(),
      vector_stores: z.array(VectorStoreHelper).max(1).optional(),
    })
    .optional(),
})
export type ToolResourcesCreate = z.output<typeof ToolResourcesCreate>

/** `tool_resources` of modify: lists replace what was there. */
export const ToolResourcesUpdate = z.strictObject({
  code_interpreter: CodeInterpreterResources.optional(),
  file_search: z
    .strictObject({ vector_store_ids: z.array(z.string()).max(1).optional() })
    .optional(),
})
export type ToolResourcesUpdate = z.output<typeof ToolResourcesUpdate>

/** What every version's objects carry, stored and read back as given. */
export type ToolResources = {
  code_interpreter?: { file_ids: string[] }
  file_search?: { vector_store_ids: string[] }
}

export const AssistantResponseFormat = z.union(
  [z.literal('auto'), ResponseFormat],
  expected("one of 'auto' or an object"),
)
export type AssistantResponseFormat = z.output<typeof AssistantResponseFormat>

const common = {
  name: z.string().max(256).nullish(),
  description: z.string().max(512).nullish(),
  instructions: z.string().max(256000).nullish(),
  metadata: Metadata.nullish(),
}

/** v2 sampling and output settings (v1 requests do not take them). */
const settings = {
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  response_format: AssistantResponseFormat.nullish(),
  reasoning_effort: z.enum(['low', 'medium', 'high']).nullish(),
}

export const AssistantCreateV2 = z.strictObject({
  model: z.string(),
  ...common,
  ...settings,
  tools: z.array(AssistantToolV2).max(128).optional(),
  tool_resources: ToolResourcesCreate.nullish(),
})
export type AssistantCreateV2 = z.output<typeof AssistantCreateV2>

export const AssistantUpdateV2 = z.strictObject({
  model: z.string().optional(),
  ...common,
  ...settings,
  tools: z.array(AssistantToolV2).max(128).optional(),
  tool_resources: ToolResourcesUpdate.nullish(),
})
export type AssistantUpdateV2 = z.output<typeof AssistantUpdateV2>

export const AssistantCreateV1 = z.strictObject({
  model: z.string(),
  ...common,
  tools: z.array(AssistantToolV1).max(128).optional(),
  file_ids: z.array(z.string()).max(20).optional(),
})
export type AssistantCreateV1 = z.output<typeof AssistantCreateV1>

export const AssistantUpdateV1 = AssistantCreateV1.partial()
export type AssistantUpdateV1 = z.output<typeof AssistantUpdateV1>

/** v1 only: POST /assistants/{id}/files */
export const AssistantFileCreate = z.strictObject({ file_id: z.string() })

/** Cursor lists of the Assistants API: `after` and `before`, newest first by default. */
export const AssistantsListQuery = z.strictObject({
  after: z.string().optional(),
  before: z.string().optional(),
  limit: queryInteger(z.number().int().min(1).max(100)).default(20),
  order: ListOrder.default('desc'),
})
export type AssistantsListQuery = z.output<typeof AssistantsListQuery>

export type AssistantToolObject = AssistantToolV2 | AssistantToolV1

/** The wire's assistant object in either version (v1: file_ids; v2: tool_resources). */
export type AssistantObject = {
  id: string
  object: 'assistant'
  created_at: number
  name: string | null
  description: string | null
  model: string
  instructions: string | null
  tools: AssistantToolObject[]
  metadata: Record<string, string>
  temperature: number
  top_p: number
  response_format: AssistantResponseFormat
  tool_resources?: ToolResources
  file_ids?: string[]
  reasoning_effort?: string | null
}

export type AssistantFileObject = {
  id: string
  object: 'assistant.file'
  created_at: number
  assistant_id: string
}
