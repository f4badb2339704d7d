import { z } from 'zod'
import { queryInteger } from './query-integer.js'
import { boundedRecord, echoedObject, expected, Metadata } from './shared.js'

// Wire contract of POST /v1/chat/completions, after openai-openapi.yaml (names follow openai-node).
const TextPart = z.strictObject({ type: z.literal('text'), text: z.string() })
const ImagePart = z.strictObject({
  type: z.literal('image_url'),
  image_url: z.strictObject({ url: z.string(), detail: z.enum(['auto', 'low', 'high']).optional() }),
})
const AudioPart = z.strictObject({
  type: z.literal('input_audio'),
  input_audio: z.strictObject({ data: z.string(), format: z.enum(['wav', 'mp3']) }),
})
const FilePart = z.strictObject({
  type: z.literal('file'),
  file: z.strictObject({
    filename: z.string().optional(),
    file_data: z.string().optional(),
    file_id: z.string().optional(),
  }),
})
const RefusalPart = z.strictObject({ type: z.literal('refusal'), refusal: z.string() })

const UserPart = z.discriminatedUnion('type', [TextPart, ImagePart, AudioPart, FilePart])
export type UserContentPart = z.output<typeof UserPart>
const AssistantPart = z.discriminatedUnion('type', [TextPart, RefusalPart])

const textContent = z.union([z.string(), z.array(TextPart).min(1)], expected('one of a string or array of objects'))

// A tool call as the API returned it, sent back in the next request: stream accumulators keep
// the deltas' `index`, the SDK's parse helpers add `function.parsed_arguments`.
export const ToolCall = echoedObject(
  {
    id: z.string(),
    type: z.literal('function'),
    function: echoedObject({ name: z.string(), arguments: z.string() }, ['parsed_arguments']),
  },
  ['index'],
)

const DeveloperMessage = z.strictObject({ role: z.literal('developer'), content: textContent, name: z.string().optional() })
const SystemMessage = z.strictObject({ role: z.literal('system'), content: textContent, name: z.string().optional() })
const UserMessage = z.strictObject({
  role: z.literal('user'),
  content: z.union([z.string(), z.array(UserPart).min(1)], expected('one of a string or array of objects')),
  name: z.string().optional(),
})
// `completion.choices[0].message` pushed back as is (the agent loop): the response's message
// also has `annotations`, its audio has the data and transcript, and the SDK's `parse()` and
// `ChatCompletionStream` add `parsed`. OpenAI accepts and ignores these.
const AssistantMessage = echoedObject(
  {
    role: z.literal('assistant'),
    content: z
      .union([z.string(), z.array(AssistantPart).min(1)], expected('one of a string or array of objects'))
      .nullish(),
    refusal: z.string().nullish(),
    name: z.string().optional(),
    audio: echoedObject({ id: z.string() }, ['data', 'expires_at', 'transcript']).nullish(),
    tool_calls: z.array(ToolCall).optional(),
    function_call: z.strictObject({ name: z.string(), arguments: z.string() }).nullish(),
  },
  ['annotations', 'parsed'],
)
const ToolMessage = z.strictObject({ role: z.literal('tool'), content: textContent, tool_call_id: z.string() })
const FunctionMessage = z.strictObject({ role: z.literal('function'), content: z.string().nullable(), name: z.string() })

export const ChatMessageParam = z.discriminatedUnion('role', [
  SystemMessage,
  UserMessage,
  AssistantMessage,
  ToolMessage,
  FunctionMessage,
  DeveloperMessage,
])
export type ChatMessageParam = z.output<typeof ChatMessageParam>

const JsonSchemaObject = z.record(z.string(), z.unknown())

export const FunctionDefinition = z.strictObject({
  name: z.string().max(64).regex(/^[a-zA-Z0-9_-]+$/, 'function_name_pattern'),
  description: z.string().optional(),
  parameters: JsonSchemaObject.optional(),
  strict: z.boolean().nullish(),
})

export const Tool = z.strictObject({ type: z.literal('function'), function: FunctionDefinition })
export type Tool = z.output<typeof Tool>

export const ToolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.strictObject({ type: z.literal('function'), function: z.strictObject({ name: z.string() }) }),
])
export type ToolChoice = z.output<typeof ToolChoice>

export const ResponseFormat = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text') }),
  z.strictObject({ type: z.literal('json_object') }),
  z.strictObject({
    type: z.literal('json_schema'),
    json_schema: z.strictObject({
      name: z.string().max(64).regex(/^[a-zA-Z0-9_-]+$/, 'function_name_pattern'),
      description: z.string().optional(),
      schema: JsonSchemaObject.optional(),
      strict: z.boolean().nullish(),
    }),
  }),
])
export type ResponseFormat = z.output<typeof ResponseFormat>

/** Token id → bias; bounded like metadata (1024 entries, more than a vocabulary-wide ban needs). */
export const LogitBias = boundedRecord(z.string(), z.number().int().min(-100).max(100), 1024)

export const Stop = z.union([z.string(), z.array(z.string()).min(1).max(4)]).nullish()

// @NOTE include_obfuscation (newer than the spec file, sent by SDK 6) is accepted: the padding it
// asks for only hides chunk sizes on the network and carries no content, so leaving it out is safe.
export const StreamOptions = z
  .strictObject({ include_usage: z.boolean().optional(), include_obfuscation: z.boolean().optional() })
  .nullish()

const Voice = z.string()

export const ChatCompletionCreateParams = z.strictObject({
  model: z.string(),
  messages: z.array(ChatMessageParam).min(1),
  metadata: Metadata.nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  user: z.string().optional(),
  // @NOTE newer than the spec file but typed by SDK 6, successors of `user`: identifiers for
  // caching and abuse detection that change no output, so accepted and not acted upon.
  prompt_cache_key: z.string().nullish(),
  safety_identifier: z.string().nullish(),
  // @NOTE 'priority' is newer than the spec file (SDK 6 types it, the Responses schema takes it):
  // accepted as the other tiers are, and the answer says the tier that served it ('default')
  service_tier: z.enum(['auto', 'default', 'flex', 'priority']).nullish(),
  modalities: z.array(z.enum(['text', 'audio'])).nullish(),
  reasoning_effort: z.enum(['low', 'medium', 'high']).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  web_search_options: z
    .strictObject({
      user_location: z.record(z.string(), z.unknown()).nullish(),
      search_context_size: z.enum(['low', 'medium', 'high']).optional(),
    })
    .optional(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  response_format: ResponseFormat.optional(),
  audio: z
    .strictObject({ voice: Voice, format: z.enum(['wav', 'aac', 'mp3', 'flac', 'opus', 'pcm16']) })
    .nullish(),
  store: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  stop: Stop,
  logit_bias: LogitBias.nullish(),
  logprobs: z.boolean().nullish(),
  n: z.number().int().min(1).max(128).nullish(),
  prediction: z
    .strictObject({ type: z.literal('content'), content: textContent })
    .nullish(),
  seed: z.number().int().nullish(),
  stream_options: StreamOptions,
  tools: z.array(Tool).max(128).optional(),
  tool_choice: ToolChoice.optional(),
  parallel_tool_calls: z.boolean().optional(),
  function_call: z
    .union([z.enum(['none', 'auto']), z.strictObject({ name: z.string() })])
    .optional(),
  functions: z.array(FunctionDefinition).min(1).max(128).optional(),
})
export type ChatCompletionCreateParams = z.output<typeof ChatCompletionCreateParams>

export const ChatCompletionUpdateParams = z.strictObject({ metadata: Metadata.nullable() })

export const ChatCompletionListQuery = z.strictObject({
  model: z.string().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  after: z.string().optional(),
  limit: queryInteger(z.number().int().min(1).max(100)).default(20),
  order: z.enum(['asc', 'desc']).default('asc'),
})
