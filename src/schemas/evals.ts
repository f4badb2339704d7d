import { z } from 'zod'
import { ResponseFormat, Tool } from './chat.js'
import { queryInteger } from './query-integer.js'
import { ListOrder, Metadata } from './shared.js'

/**
 * The Evals API's wire contract: CreateEvalRequest, CreateEvalRunRequest, the graders and data
 * sources, as the spec and the SDK's `EvalCreateParams` / `RunCreateParams` send them.
 */

const JsonObject = z.record(z.string(), z.unknown())

// ---- data source configs (an eval's shape of items) ----

export const CustomDataSourceConfig = z.strictObject({
  type: z.literal('custom'),
  item_schema: JsonObject,
  include_sample_schema: z.boolean().optional(),
})
const LogsDataSourceConfig = z.strictObject({ type: z.literal('logs'), metadata: JsonObject.optional() })
/** deprecated in the SDK for `logs`, still accepted there */
const StoredCompletionsDataSourceConfig = z.strictObject({
  type: z.literal('stored_completions'),
  metadata: JsonObject.optional(),
})
export const DataSourceConfigParam = z.discriminatedUnion('type', [
  CustomDataSourceConfig,
  LogsDataSourceConfig,
  StoredCompletionsDataSourceConfig,
])
export type DataSourceConfigParam = z.output<typeof DataSourceConfigParam>

// ---- messages of templates and model graders ----

const InputText = z.strictObject({ type: z.literal('input_text'), text: z.string() })
const OutputText = z.strictObject({ type: z.literal('output_text'), text: z.string() })
const InputImage = z.strictObject({ type: z.literal('input_image'), image_url: z.string(), detail: z.string().optional() })
const InputAudio = z.strictObject({
  type: z.literal('input_audio'),
  input_audio: z.strictObject({ data: z.string(), format: z.enum(['mp3', 'wav']) }),
})
const ContentPart = z.discriminatedUnion('type', [InputText, OutputText, InputImage, InputAudio])
const ContentParts = z.array(z.union([z.string(), ContentPart]))
export const ItemContent = z.union([z.string(), ContentPart, ContentParts])
export type ItemContent = z.output<typeof ItemContent>

export const EvalItem = z.strictObject({
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: ItemContent,
  type: z.literal('message').optional(),
})
export type EvalItem = z.output<typeof EvalItem>
export type TemplateMessage = { role: string; content: ItemContent; type?: 'message' }

/**
 * A model grader's message: the spec's EvalItem, whose content is text (a string, input_text or
 * output_text). The SDK also types images, audio and lists of parts there; the eval could not
 * show those as the spec's Eval, and Plinth's graders read text, so they are refused (a 400).
 */
const GraderItem = z.strictObject({
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([z.string(), InputText, OutputText]),
  type: z.literal('message').optional(),
})

// ---- graders (testing criteria) ----

const name = z.string()
export const LabelModelGrader = z.strictObject({
  type: z.literal('label_model'),
  name,
  model: z.string(),
  // CreateEvalItem's `{role, content}` form types the role as any string, but the eval shows the
  // messages as EvalItems, whose role is one of four (and a model takes no other): EvalItem it is
  input: z.array(GraderItem),
  labels: z.array(z.string()),
  passing_labels: z.array(z.string()),
})
export const StringCheckGrader = z.strictObject({
  type: z.literal('string_check'),
  name,
  input: z.string(),
  reference: z.string(),
  operation: z.enum(['eq', 'ne', 'like', 'ilike']),
})
export const SIMILARITY_METRICS = [
  'cosine',
  'fuzzy_match',
  'bleu',
  'gleu',
  'meteor',
  'rouge_1',
  'rouge_2',
  'rouge_3',
  'rouge_4',
  'rouge_5',
  'rouge_l',
] as const
export type SimilarityMetric = (typeof SIMILARITY_METRICS)[number]
export const TextSimilarityGrader = z.strictObject({
  type: z.literal('text_similarity'),
  name: name.optional(),
  input: z.string(),
  reference: z.string(),
  pass_threshold: z.number(),
  evaluation_metric: z.enum(SIMILARITY_METRICS),
})
export const PythonGrader = z.strictObject({
  type: z.literal('python'),
  name,
  source: z.string(),
  pass_threshold: z.number().optional(),
  image_tag: z.string().optional(),
})
const GraderSamplingParams = z.strictObject({
  max_completions_tokens: z.number().int().min(1).nullish(),
  reasoning_effort: z.enum(['minimal', 'low', 'medium', 'high']).nullish(),
  seed: z.number().int().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
})
export const ScoreModelGrader = z.strictObject({
  type: z.literal('score_model'),
  name,
  model: z.string(),
  input: z.array(GraderItem),
  sampling_params: GraderSamplingParams.optional(),
  pass_threshold: z.number().optional(),
  range: z.array(z.number()).length(2).optional(),
})
export const GraderParam = z.discriminatedUnion('type', [
  LabelModelGrader,
  StringCheckGrader,
  TextSimilarityGrader,
  PythonGrader,
  ScoreModelGrader,
])
export type GraderParam = z.output<typeof GraderParam>
/** A grader as the eval keeps and shows it: its `id` names it in results. */
export type Grader = GraderParam & { id: string }

// ---- evals ----

export const EvalCreateParams = z.strictObject({
  name: z.string().optional(),
  metadata: Metadata.nullish(),
  data_source_config: DataSourceConfigParam,
  testing_criteria: z.array(GraderParam),
})
export type EvalCreateParams = z.output<typeof EvalCreateParams>

export const EvalUpdateParams = z.strictObject({
  name: z.string().optional(),
  metadata: Metadata.nullish(),
})
export type EvalUpdateParams = z.output<typeof EvalUpdateParams>

const limit = queryInteger(z.number().int().min(1).max(100)).default(20)
export const EvalListQuery = z.strictObject({
  after: z.string().optional(),
  limit,
  order: ListOrder.default('asc'),
  order_by: z.enum(['created_at', 'updated_at']).default('created_at'),
})
export type EvalListQuery = z.output<typeof EvalListQuery>

export const EVAL_RUN_STATUSES = ['queued', 'in_progress', 'completed', 'canceled', 'failed'] as const
export const EvalRunListQuery = z.strictObject({
  after: z.string().optional(),
  limit,
  order: ListOrder.default('asc'),
  status: z.enum(EVAL_RUN_STATUSES).optional(),
})
export type EvalRunListQuery = z.output<typeof EvalRunListQuery>

export const OutputItemListQuery = z.strictObject({
  after: z.string().optional(),
  limit,
  order: ListOrder.default('asc'),
  status: z.enum(['fail', 'pass']).optional(),
})
export type OutputItemListQuery = z.output<typeof OutputItemListQuery>

// ---- run data sources ----

const FileContentSource = z.strictObject({
  type: z.literal('file_content'),
  content: z.array(z.strictObject({ item: JsonObject, sample: JsonObject.optional() })),
})
const FileIdSource = z.strictObject({ type: z.literal('file_id'), id: z.string() })
const StoredCompletionsSource = z.strictObject({
  type: z.literal('stored_completions'),
  metadata: Metadata.nullish(),
  model: z.string().nullish(),
  created_after: z.number().int().nullish(),
  created_before: z.number().int().nullish(),
  limit: z.number().int().nullish(),
})
const ResponsesSource = z.strictObject({
  type: z.literal('responses'),
  metadata: z.unknown().optional(),
  model: z.string().nullish(),
  instructions_search: z.string().nullish(),
  created_after: z.number().int().min(0).nullish(),
  created_before: z.number().int().min(0).nullish(),
  has_tool_calls: z.boolean().nullish(),
  reasoning_effort: z.enum(['minimal', 'low', 'medium', 'high']).nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  users: z.array(z.string()).nullish(),
  tools: z.array(z.string()).nullish(),
  allow_parallel_tool_calls: z.boolean().nullish(),
})

const InputMessages = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('template'),
    template: z.array(
      z.union([
        EvalItem,
        // the spec's `{role, content}` and EasyInputMessage: content parts of the Responses API
        z.strictObject({ role: z.string(), content: ItemContent, type: z.literal('message').optional() }),
      ]),
    ),
  }),
  z.strictObject({ type: z.literal('item_reference'), item_reference: z.string() }),
])
export type InputMessages = z.output<typeof InputMessages>

const SamplingParams = z.strictObject({
  max_completion_tokens: z.number().int().min(1).optional(),
  reasoning_effort: z.enum(['minimal', 'low', 'medium', 'high']).nullish(),
  seed: z.number().int().optional(),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().min(0).max(1).optional(),
  response_format: ResponseFormat.optional(),
  tools: z.array(Tool).optional(),
  /** the Responses data source's text format (`text.format`) */
  text: z.strictObject({ format: z.unknown().optional() }).optional(),
})
export type SamplingParams = z.output<typeof SamplingParams>

const JsonlDataSource = z.strictObject({
  type: z.literal('jsonl'),
  source: z.discriminatedUnion('type', [FileContentSource, FileIdSource]),
})
const CompletionsDataSource = z.strictObject({
  type: z.literal('completions'),
  source: z.discriminatedUnion('type', [FileContentSource, FileIdSource, StoredCompletionsSource]),
  input_messages: InputMessages.optional(),
  model: z.string().optional(),
  sampling_params: SamplingParams.optional(),
})
const ResponsesDataSource = z.strictObject({
  type: z.literal('responses'),
  source: z.discriminatedUnion('type', [FileContentSource, FileIdSource, ResponsesSource]),
  input_messages: InputMessages.optional(),
  model: z.string().optional(),
  sampling_params: SamplingParams.optional(),
})
export const RunDataSource = z.discriminatedUnion('type', [JsonlDataSource, CompletionsDataSource, ResponsesDataSource])
export type RunDataSource = z.output<typeof RunDataSource>

export const EvalRunCreateParams = z.strictObject({
  name: z.string().optional(),
  metadata: Metadata.nullish(),
  data_source: RunDataSource,
})
export type EvalRunCreateParams = z.output<typeof EvalRunCreateParams>

// ---- wire objects ----

export type Eval = {
  object: 'eval'
  id: string
  name: string
  data_source_config: Record<string, unknown>
  testing_criteria: Grader[]
  created_at: number
  metadata: Record<string, string> | null
}

export type EvalApiError = { code: string; message: string }
export type ModelUsage = {
  model_name: string
  invocation_count: number
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
  cached_tokens: number
}
export type CriteriaResult = { testing_criteria: string; passed: number; failed: number }

export type EvalRun = {
  object: 'eval.run'
  id: string
  eval_id: string
  status: string
  model: string | null
  name: string
  created_at: number
  report_url: string | null
  result_counts: { total: number; errored: number; failed: number; passed: number }
  per_model_usage: ModelUsage[] | null
  per_testing_criteria_results: CriteriaResult[] | null
  data_source: RunDataSource
  metadata: Record<string, string> | null
  error: EvalApiError | null
}

export type GraderResult = {
  name: string
  type: string
  passed: boolean
  score: number
  sample: Record<string, unknown> | null
  [k: string]: unknown
}

export type EvalSample = {
  input: { role: string; content: string }[]
  output: { role: string; content: string }[]
  finish_reason: string
  model: string
  usage: { total_tokens: number; completion_tokens: number; prompt_tokens: number; cached_tokens: number }
  error: EvalApiError | null
  temperature: number
  max_completion_tokens: number
  top_p: number
  seed: number
}

export type EvalRunOutputItem = {
  object: 'eval.run.output_item'
  id: string
  run_id: string
  eval_id: string
  created_at: number
  status: string
  datasource_item_id: number
  datasource_item: Record<string, unknown>
  results: GraderResult[]
  sample: EvalSample | null
}
