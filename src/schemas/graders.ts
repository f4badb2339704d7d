import { z } from 'zod'
import { LabelModelGrader, PythonGrader, ScoreModelGrader, SIMILARITY_METRICS, StringCheckGrader } from './evals.js'

/**
 * The graders of POST /v1/fine_tuning/alpha/graders/run and /validate, as SDK 6 types them
 * (`GraderRunParams`, `GraderValidateParams`; the spec file has neither operation). They are the
 * Evals API's graders (schemas/evals.ts), but text_similarity names no pass_threshold here (the
 * answer is a reward, not a pass), and there is `multi`: named graders combined by a formula.
 */

const TextSimilarityGrader = z.strictObject({
  type: z.literal('text_similarity'),
  name: z.string(),
  input: z.string(),
  reference: z.string(),
  evaluation_metric: z.enum(SIMILARITY_METRICS),
  // the Evals form's, accepted and not needed
  pass_threshold: z.number().optional(),
})

const SubGrader = z.discriminatedUnion('type', [StringCheckGrader, TextSimilarityGrader, PythonGrader, ScoreModelGrader, LabelModelGrader])
export type SubGrader = z.output<typeof SubGrader>

const MultiGrader = z.strictObject({
  type: z.literal('multi'),
  name: z.string(),
  calculate_output: z.string(),
  // OpenAI's guide sends graders by name; SDK 6 types one grader (its name is then the variable)
  graders: z.union([SubGrader, z.record(z.string(), SubGrader)]),
})

export const RunnableGrader = z.discriminatedUnion('type', [StringCheckGrader, TextSimilarityGrader, PythonGrader, ScoreModelGrader, MultiGrader])
export type RunnableGrader = z.output<typeof RunnableGrader>

export const GraderRunParams = z.strictObject({
  grader: RunnableGrader,
  model_sample: z.string(),
  item: z.unknown().optional(),
})
export type GraderRunParams = z.output<typeof GraderRunParams>

export const GraderValidateParams = z.strictObject({ grader: RunnableGrader })
export type GraderValidateParams = z.output<typeof GraderValidateParams>

/** GraderRunResponse.metadata.errors: every flag OpenAI reports, false unless it happened. */
export type GraderErrors = {
  formula_parse_error: boolean
  invalid_variable_error: boolean
  model_grader_parse_error: boolean
  model_grader_refusal_error: boolean
  model_grader_server_error: boolean
  model_grader_server_error_details: string | null
  other_error: boolean
  python_grader_runtime_error: boolean
  python_grader_runtime_error_details: string | null
  python_grader_server_error: boolean
  python_grader_server_error_type: string | null
  sample_parse_error: boolean
  truncated_observation_error: boolean
  unresponsive_reward_error: boolean
}

export type GraderTokenUsage = { prompt_tokens: number; completion_tokens: number; total_tokens: number; cached_tokens: number }

export type GraderRunResponse = {
  reward: number
  metadata: {
    name: string
    type: string
    errors: GraderErrors
    execution_time: number
    scores: Record<string, number>
    token_usage: GraderTokenUsage | null
    sampled_model_name: string | null
  }
  sub_rewards: Record<string, number>
  model_grader_token_usage_per_model: Record<string, GraderTokenUsage>
}
