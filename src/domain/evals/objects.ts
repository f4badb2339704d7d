import { randomUUID } from 'node:crypto'
import type { EvalOutputItemRow, EvalRow, EvalRunRow } from '../../storage/repositories/evals.js'
import type {
  DataSourceConfigParam,
  Eval,
  EvalRun,
  EvalRunOutputItem,
  Grader,
  GraderParam,
} from '../../schemas/evals.js'

export const EVAL_RUN_JOB = 'eval.run'
export type EvalRunJobPayload = { runId: string; evalId: string; projectId: string }

/** What `{{sample.*}}` can name: a sampled answer in Chat Completions terms (include_sample_schema). */
const SAMPLE_SCHEMA = {
  type: 'object',
  properties: {
    model: { type: 'string' },
    choices: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          message: {
            type: 'object',
            properties: {
              role: { type: 'string', enum: ['assistant'] },
              content: { type: ['string', 'null'] },
              refusal: { type: ['boolean', 'null'] },
              tool_calls: { type: ['array', 'null'], items: { type: 'object' } },
            },
            required: ['role'],
          },
          finish_reason: { type: 'string' },
        },
        required: ['index', 'message', 'finish_reason'],
      },
    },
    output_text: { type: 'string' },
    output_json: { type: 'object' },
    output_tools: { type: 'array', items: { type: 'object' } },
  },
  required: ['model', 'choices'],
}

/** The config as the eval shows it: its `schema` says what a run's items (and samples) are. */
export function toDataSourceConfig(config: DataSourceConfigParam): Record<string, unknown> {
  if (config.type === 'custom') {
    const withSample = config.include_sample_schema === true
    return {
      type: 'custom',
      schema: {
        type: 'object',
        properties: { item: config.item_schema, ...(withSample ? { sample: SAMPLE_SCHEMA } : {}) },
        required: withSample ? ['item', 'sample'] : ['item'],
      },
    }
  }
  // logs and stored_completions: the items are logged requests, their samples the answers
  return {
    type: config.type,
    metadata: config.metadata ?? null,
    schema: {
      type: 'object',
      properties: { item: { type: 'object' }, sample: { type: 'object' } },
      required: ['item', 'sample'],
    },
  }
}

/**
 * The graders as kept: each gets an `id` (its name and a UUID, as OpenAI's) that results and
 * per_testing_criteria_results name it by; label_model's `{role, content}` messages become
 * EvalItems (`type: 'message'`), as OpenAI echoes them.
 */
export function toGraders(params: GraderParam[]): Grader[] {
  return params.map((grader) => {
    const id = `${grader.name ?? grader.type}-${randomUUID()}`
    if (grader.type === 'label_model') {
      const input = grader.input.map((m) => ({ type: 'message' as const, ...m }))
      return { ...grader, input, id } as Grader
    }
    return { ...grader, id }
  })
}

export function toEvalObject(row: EvalRow): Eval {
  return {
    object: 'eval',
    id: row.id,
    name: row.name,
    data_source_config: JSON.parse(row.data_source_config),
    testing_criteria: JSON.parse(row.testing_criteria),
    created_at: row.created_at,
    metadata: row.metadata ? JSON.parse(row.metadata) : null,
  }
}

export function toRunObject(row: EvalRunRow): EvalRun {
  return {
    object: 'eval.run',
    id: row.id,
    eval_id: row.eval_id,
    status: row.status,
    model: row.model,
    name: row.name,
    created_at: row.created_at,
    // no report page on Plinth's dashboard (yet): OpenAI's links to its own
    report_url: null,
    result_counts: {
      total: row.result_total,
      errored: row.result_errored,
      failed: row.result_failed,
      passed: row.result_passed,
    },
    per_model_usage: row.per_model_usage ? JSON.parse(row.per_model_usage) : null,
    per_testing_criteria_results: row.per_testing_criteria_results ? JSON.parse(row.per_testing_criteria_results) : null,
    data_source: JSON.parse(row.data_source),
    metadata: row.metadata ? JSON.parse(row.metadata) : null,
    error: row.error ? JSON.parse(row.error) : null,
  }
}

export function toOutputItemObject(row: EvalOutputItemRow): EvalRunOutputItem {
  return {
    object: 'eval.run.output_item',
    id: row.id,
    run_id: row.run_id,
    eval_id: row.eval_id,
    created_at: row.created_at,
    status: row.status,
    datasource_item_id: row.datasource_item_id,
    datasource_item: JSON.parse(row.datasource_item),
    results: JSON.parse(row.results),
    sample: row.sample ? JSON.parse(row.sample) : null,
  }
}

