import { evalNotSupported, invalidRequest } from '../../errors.js'
import type { ModelPolicy, ProjectPrincipal } from '../../principal.js'
import type { Sandbox } from '../../sandbox/index.js'
import type { Grader, GraderResult } from '../../schemas/evals.js'
import type {
  GraderErrors,
  GraderRunParams,
  GraderRunResponse,
  GraderTokenUsage,
  GraderValidateParams,
  RunnableGrader,
  SubGrader,
} from '../../schemas/graders.js'
import { newId } from '../../storage/ids.js'
import { grade, readScore, type Graded, type GraderTools } from '../evals/graders.js'
import { PythonGrader } from '../evals/python.js'
import { Sampler } from '../evals/sampler.js'
import type { TemplateContext } from '../evals/template.js'
import type { ChatService } from '../inference/chat.js'
import type { EmbeddingsService } from '../inference/embeddings.js'
import type { UsageEntry, UsageRecorder } from '../inference/usage.js'
import { checkVariables, evaluate, FormulaError, parseFormula, type Formula } from './formula.js'

export type GradersDeps = {
  chat: Pick<ChatService, 'create'>
  usage: Pick<UsageRecorder, 'record'>
  /** the code interpreter's sandbox, for python graders */
  sandbox?: Sandbox
  embeddings?: Pick<EmbeddingsService, 'create'>
  embeddingModel?: (projectId: string) => string
  hasModel(model: string, policy?: ModelPolicy): boolean
}

const NO_ERRORS: GraderErrors = {
  formula_parse_error: false,
  invalid_variable_error: false,
  model_grader_parse_error: false,
  model_grader_refusal_error: false,
  model_grader_server_error: false,
  model_grader_server_error_details: null,
  other_error: false,
  python_grader_runtime_error: false,
  python_grader_runtime_error_details: null,
  python_grader_server_error: false,
  python_grader_server_error_type: null,
  sample_parse_error: false,
  truncated_observation_error: false,
  unresponsive_reward_error: false,
}

/**
 * POST /v1/fine_tuning/alpha/graders/run and /validate (SDK 6's `fineTuning.alpha.graders`): the
 * Evals API's graders (domain/evals/graders.ts, called as they are) on one model sample, the
 * answer OpenAI's GraderRunResponse. A model grader's usage is billed to the project as its chat
 * calls are.
 */
export class GradersService {
  constructor(private readonly deps: GradersDeps) {}

  validate(principal: ProjectPrincipal, params: GraderValidateParams): { grader: RunnableGrader } {
    this.check(principal, params.grader)
    return { grader: params.grader }
  }

  async run(principal: ProjectPrincipal, params: GraderRunParams, signal: AbortSignal): Promise<GraderRunResponse> {
    const started = performance.now()
    const { grader } = params
    const formula = this.check(principal, grader)
    const subs = subGraders(grader)
    this.checkRunnable(principal, subs)
    const context: TemplateContext = { item: (params.item ?? {}) as Record<string, unknown>, sample: sampleOf(params.model_sample) }
    const tools: GraderTools = {
      sampler: new Sampler(this.deps.chat, principal, signal),
      signal,
      python: this.deps.sandbox && subs.some(([, g]) => g.type === 'python') ? new PythonGrader(this.deps.sandbox, `grader:${newId('run_')}`) : undefined,
      embed: this.embedder(principal, signal),
    }
    const errors = { ...NO_ERRORS }
    const scores: Record<string, number> = {}
    const perModel: Record<string, GraderTokenUsage> = {}
    const usage: UsageEntry[] = []
    let sampledModel: string | null = null
    try {
      for (const [name, sub] of subs) {
        const graded = await grade({ ...sub, id: name, ...(sub.type === 'text_similarity' ? { pass_threshold: sub.pass_threshold ?? 1 } : {}) } as Grader, context, tools)
        scores[name] = graded.result.score
        usage.push(...graded.usage)
        noteErrors(errors, sub, graded)
        const tokens = tokensOf(graded.result)
        if (tokens && 'model' in sub) {
          sampledModel ??= sub.model
          perModel[sub.model] = add(perModel[sub.model], tokens)
        }
      }
    } finally {
      await tools.python?.close()
    }
    for (const entry of usage) await this.deps.usage.record(principal, entry)
    let reward = grader.type === 'multi' ? evaluate(formula!, scores) : scores[subs[0][0]]
    if (!Number.isFinite(reward)) {
      // a division by zero, the log of a negative score...
      errors.other_error = true
      reward = 0
    }
    const models = Object.values(perModel)
    return {
      reward,
      metadata: {
        name: grader.name,
        type: grader.type,
        errors,
        execution_time: (performance.now() - started) / 1000,
        scores: grader.type === 'multi' ? scores : {},
        token_usage: models.length ? models.reduce((a, b) => add(a, b)) : null,
        sampled_model_name: sampledModel,
      },
      sub_rewards: grader.type === 'multi' ? { ...scores } : {},
      model_grader_token_usage_per_model: perModel,
    }
  }

  /** What OpenAI's validate refuses: a formula that does not parse or names no grader, a model not served. */
  private check(principal: ProjectPrincipal, grader: RunnableGrader): Formula | undefined {
    for (const [name, sub] of subGraders(grader)) {
      if ((sub.type === 'score_model' || sub.type === 'label_model') && !this.deps.hasModel(sub.model, principal.models)) {
        const param = grader.type === 'multi' ? (isNamed(grader.graders) ? `grader.graders.${name}.model` : 'grader.graders.model') : 'grader.model'
        throw invalidRequest(`The model \`${sub.model}\` does not exist or you do not have access to it.`, param, 'model_not_found')
      }
    }
    if (grader.type !== 'multi') return undefined
    try {
      const formula = parseFormula(grader.calculate_output)
      checkVariables(formula, subGraders(grader).map(([name]) => name))
      return formula
    } catch (error) {
      if (!(error instanceof FormulaError)) throw error
      throw invalidRequest(`Invalid 'grader.calculate_output': ${error.message}.`, 'grader.calculate_output', 'invalid_value')
    }
  }

  /** Graders this server cannot run (no sandbox, no embedding model), refused as the Evals API refuses them. */
  private checkRunnable(principal: ProjectPrincipal, subs: [string, SubGrader][]) {
    for (const [, sub] of subs) {
      if (sub.type === 'python' && !this.deps.sandbox) throw evalNotSupported("The 'python' grader", 'grader.type')
      if (sub.type === 'text_similarity' && sub.evaluation_metric === 'cosine') {
        const model = this.deps.embeddingModel?.(principal.projectId)
        if (!this.deps.embeddings || !model || !this.deps.hasModel(model, principal.models))
          throw evalNotSupported("The 'cosine' evaluation metric", 'grader.evaluation_metric')
      }
    }
  }

  private embedder(principal: ProjectPrincipal, signal: AbortSignal): GraderTools['embed'] {
    const { embeddings, embeddingModel } = this.deps
    if (!embeddings || !embeddingModel) return undefined
    return async (texts) => {
      const usage: UsageEntry[] = []
      const params = { model: embeddingModel(principal.projectId), input: texts, encoding_format: 'float' as const }
      const answer = await embeddings.create(principal, params, { signal, usageSink: (entry) => void usage.push(entry) })
      return { vectors: answer.data.map((d) => d.embedding as number[]), usage }
    }
  }
}

/** The graders to run, by the name the formula knows them by (a single grader: its own name). */
function subGraders(grader: RunnableGrader): [string, SubGrader][] {
  if (grader.type !== 'multi') return [[grader.name, grader]]
  if (!isNamed(grader.graders)) return [[grader.graders.name ?? 'grader', grader.graders]]
  return Object.entries(grader.graders)
}

function isNamed(graders: Extract<RunnableGrader, { type: 'multi' }>['graders']): graders is Record<string, SubGrader> {
  return typeof (graders as { type?: unknown }).type !== 'string'
}

/** The `sample` namespace: output_text, and output_json when the sample is JSON (as OpenAI fills them). */
function sampleOf(text: string): Record<string, unknown> {
  let json: unknown = null
  try {
    json = JSON.parse(text)
  } catch {
    // not JSON: output_json stays null
  }
  return { output_text: text, output_json: json, output_tools: [], choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }] }
}

function noteErrors(errors: GraderErrors, grader: SubGrader, graded: Graded) {
  const error = graded.result.error as { code?: string; message?: string } | undefined
  if (graded.errored && error) {
    if (grader.type === 'python') {
      errors.python_grader_runtime_error = true
      errors.python_grader_runtime_error_details ??= error.message ?? null
    } else if (grader.type === 'score_model' || grader.type === 'label_model') {
      errors.model_grader_server_error = true
      errors.model_grader_server_error_details ??= error.message ?? null
    } else errors.other_error = true
    return
  }
  // the model answered, but no score or label could be read from it
  const answer = (graded.result.sample as { output?: { content: string }[] } | null)?.output?.[0]?.content
  if (grader.type === 'score_model' && answer !== undefined && readScore(answer) === undefined) errors.model_grader_parse_error = true
  if (grader.type === 'label_model' && graded.result.label == null) errors.model_grader_parse_error = true
}

function tokensOf(result: GraderResult): GraderTokenUsage | undefined {
  const usage = (result.sample as { usage?: GraderTokenUsage } | null)?.usage
  if (!usage) return undefined
  return { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens, total_tokens: usage.total_tokens, cached_tokens: usage.cached_tokens }
}

function add(a: GraderTokenUsage | undefined, b: GraderTokenUsage): GraderTokenUsage {
  if (!a) return { ...b }
  return {
    prompt_tokens: a.prompt_tokens + b.prompt_tokens,
    completion_tokens: a.completion_tokens + b.completion_tokens,
    total_tokens: a.total_tokens + b.total_tokens,
    cached_tokens: a.cached_tokens + b.cached_tokens,
  }
}
