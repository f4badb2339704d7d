import { z } from 'zod'
import { queryInteger } from './query-integer.js'
import { Filter, RANKERS } from './vector-stores.js'
import { FunctionDefinition } from './chat.js'
import { echoedObject, expected, Metadata } from './shared.js'

// Wire contract of POST /v1/responses and its reads, after openai-openapi.yaml (CreateResponse).

const InputText = z.strictObject({ type: z.literal('input_text'), text: z.string() })
const InputImage = z.strictObject({
  type: z.literal('input_image'),
  image_url: z.string().nullish(),
  file_id: z.string().nullish(),
  detail: z.enum(['low', 'high', 'auto']).optional(),
})
const InputFile = z.strictObject({
  type: z.literal('input_file'),
  file_id: z.string().nullish(),
  filename: z.string().optional(),
  file_data: z.string().optional(),
})
// an assistant message of an earlier output, sent back as input (`input: [...prev.output]`)
const OutputText = echoedObject({ type: z.literal('output_text'), text: z.string() }, ['annotations', 'logprobs'])
const Refusal = z.strictObject({ type: z.literal('refusal'), refusal: z.string() })

export const InputContent = z.discriminatedUnion('type', [InputText, InputImage, InputFile, OutputText, Refusal])
export type InputContent = z.output<typeof InputContent>

const ItemStatus = z.enum(['in_progress', 'completed', 'incomplete']).nullish()

const MessageItem = z.strictObject({
  type: z.literal('message'),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([z.string(), z.array(InputContent)], expected('one of a string or array of objects')),
  id: z.string().nullish(),
  status: ItemStatus,
})
const FunctionCallItem = z.strictObject({
  type: z.literal('function_call'),
  call_id: z.string().min(1).max(64),
  name: z.string(),
  arguments: z.string(),
  id: z.string().nullish(),
  status: ItemStatus,
})
const FunctionCallOutputItem = z.strictObject({
  type: z.literal('function_call_output'),
  call_id: z.string().min(1).max(64),
  output: z.string().max(10_485_760),
  id: z.string().nullish(),
  status: ItemStatus,
})
const ItemReference = z.strictObject({ type: z.literal('item_reference'), id: z.string() })

const InputItemTypes = z.discriminatedUnion('type', [MessageItem, FunctionCallItem, FunctionCallOutputItem, ItemReference])

/** The spec's EasyInputMessage and ItemReferenceParam may leave `type` out: it is filled in first. */
export const InputItem = z.preprocess((value) => {
  if (value && typeof value === 'object' && !Array.isArray(value) && !('type' in value)) {
    const item = value as Record<string, unknown>
    if ('role' in item) return { ...item, type: 'message' }
    if ('id' in item) return { ...item, type: 'item_reference' }
  }
  if (value && typeof value === 'object' && (value as { type?: unknown }).type === null) return { ...(value as object), type: 'item_reference' }
  return value
}, InputItemTypes)
export type InputItem = z.output<typeof InputItemTypes>

export const FunctionTool = z.strictObject({
  type: z.literal('function'),
  name: FunctionDefinition.shape.name,
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
})
export type FunctionTool = z.output<typeof FunctionTool>

/** Tools OpenAI runs itself: taken as given here, and the domain says which Plinth can run. */
const builtinTool = (type: string) => z.looseObject({ type: z.literal(type) })
export const BUILTIN_TOOL_TYPES = [
  'file_search',
  'web_search_preview',
  'web_search_preview_2025_03_11',
  'web_search',
  'computer_use_preview',
  'code_interpreter',
  'image_generation',
  'mcp',
  'local_shell',
] as const
/**
 * file_search, which Plinth runs: its filters and options are checked as the search endpoint's
 * are (a filter that mixes a comparison and a compound is refused, not echoed back).
 */
export const FileSearchTool = z.looseObject({
  type: z.literal('file_search'),
  vector_store_ids: z.array(z.string()),
  max_num_results: z.number().int().min(1).max(50).optional(),
  ranking_options: z
    .looseObject({ ranker: z.enum(RANKERS).optional(), score_threshold: z.number().min(0).max(1).optional() })
    .optional(),
  filters: Filter.nullish(),
})

export const ResponseTool = z.discriminatedUnion('type', [
  FunctionTool,
  FileSearchTool,
  ...BUILTIN_TOOL_TYPES.filter((type) => type !== 'file_search').map(builtinTool),
] as unknown as [typeof FunctionTool, ...ReturnType<typeof builtinTool>[]])
export type ResponseTool = z.output<typeof ResponseTool>

export const ResponseToolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.strictObject({ type: z.literal('function'), name: z.string() }),
  z.strictObject({ type: z.enum(BUILTIN_TOOL_TYPES) }),
])
export type ResponseToolChoice = z.output<typeof ResponseToolChoice>

export const TextFormat = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text') }),
  z.strictObject({ type: z.literal('json_object') }),
  z.strictObject({
    type: z.literal('json_schema'),
    name: FunctionDefinition.shape.name,
    schema: z.record(z.string(), z.unknown()),
    description: z.string().optional(),
    strict: z.boolean().nullish(),
  }),
])
export type TextFormat = z.output<typeof TextFormat>

export const Includable = z.enum([
  'file_search_call.results',
  'message.input_image.image_url',
  'computer_call_output.output.image_url',
  'reasoning.encrypted_content',
  'message.output_text.logprobs',
  'code_interpreter_call.outputs',
])

/** SDK 6's `conversation`: its id, or `{ id }` (ResponseConversationParam). */
export const ConversationParam = z.union([z.string(), z.strictObject({ id: z.string() })], expected('one of a string or object'))

export const ResponseCreateParams = z.strictObject({
  model: z.string(),
  input: z.union([z.string(), z.array(InputItem)], expected('one of a string or array of objects')),
  include: z.array(Includable).nullish(),
  instructions: z.string().nullish(),
  max_output_tokens: z.number().int().min(16).nullish(),
  // @NOTE newer than the spec file, typed by SDK 6 (and OpenAI's reference): calls of built-in
  // tools a response may run in all; OpenAI refuses 0 (`Expected a value >= 1`)
  max_tool_calls: z.number().int().min(1).nullish(),
  metadata: Metadata.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  previous_response_id: z.string().nullish(),
  // @NOTE newer than the spec file, typed by SDK 6: the conversation (`conv_...`, or `{ id }`)
  // whose items come before the input; input and output are appended to it
  conversation: ConversationParam.nullish(),
  reasoning: z
    .strictObject({
      effort: z.enum(['minimal', 'low', 'medium', 'high']).nullish(),
      summary: z.enum(['auto', 'concise', 'detailed']).nullish(),
      generate_summary: z.enum(['auto', 'concise', 'detailed']).nullish(),
    })
    .nullish(),
  store: z.boolean().nullish(),
  // @NOTE newer than the spec file, typed by SDK 6: run on the job runner, poll or stream it
  background: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  // @NOTE newer than the spec file, typed by SDK 6: padding that hides chunk sizes, safe to omit
  stream_options: z.strictObject({ include_obfuscation: z.boolean().optional() }).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  // @NOTE newer than the spec file, typed by SDK 6: alternatives per token of the logprobs that
  // `include: ["message.output_text.logprobs"]` asks for
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  text: z
    .strictObject({ format: TextFormat.optional(), verbosity: z.enum(['low', 'medium', 'high']).nullish() })
    .nullish(),
  tool_choice: ResponseToolChoice.optional(),
  tools: z.array(ResponseTool).max(128).optional(),
  truncation: z.enum(['auto', 'disabled']).nullish(),
  user: z.string().optional(),
  // @NOTE as in chat: identifiers for caching and abuse detection, accepted and not acted upon
  prompt_cache_key: z.string().nullish(),
  safety_identifier: z.string().nullish(),
  service_tier: z.enum(['auto', 'default', 'flex', 'priority']).nullish(),
})
export type ResponseCreateParams = z.output<typeof ResponseCreateParams>

/** `include[]=a&include[]=b` (readQuery gathers them into an array) or one `include=a`. */
const IncludeQuery = z
  .union([Includable, z.array(Includable)])
  .transform((v) => (Array.isArray(v) ? v : [v]))
  .optional()

/** `stream` and `starting_after` are newer than the spec file: SDK 6's retrieve sends them. */
export const ResponseRetrieveQuery = z.strictObject({
  include: IncludeQuery,
  stream: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  starting_after: queryInteger(z.number().int().min(-1)).optional(),
  include_obfuscation: z.enum(['true', 'false']).optional(),
})

export const InputItemsQuery = z.strictObject({
  after: z.string().optional(),
  before: z.string().optional(),
  limit: queryInteger(z.number().int().min(1).max(100)).default(20),
  order: z.enum(['asc', 'desc']).default('asc'),
  include: IncludeQuery,
})

/**
 * POST /v1/responses/input_tokens (SDK 6's responses.inputTokens.count): newer than the spec
 * file. What a response would be given, every field optional; `personality` is taken and unused.
 */
export const InputTokenCountParams = ResponseCreateParams.pick({
  conversation: true,
  instructions: true,
  parallel_tool_calls: true,
  previous_response_id: true,
  reasoning: true,
  text: true,
  tool_choice: true,
  truncation: true,
})
  .partial()
  .extend({
    model: z.string().nullish(),
    input: ResponseCreateParams.shape.input.nullish(),
    tools: ResponseCreateParams.shape.tools.nullable(),
    personality: z.string().optional(),
  })
export type InputTokenCountParams = z.output<typeof InputTokenCountParams>
