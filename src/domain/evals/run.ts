import { ApiError, evalBadItemReference } from '../../errors.js'
import { jobLog } from '../../logger.js'
import { jobPrincipal, type ProjectPrincipal } from '../../principal.js'
import type {
  EvalApiError,
  EvalSample,
  Grader,
  GraderResult,
  RunDataSource,
  TemplateMessage,
} from '../../schemas/evals.js'
import { newId, nowSeconds } from '../../storage/ids.js'
import type { EvalRow, EvalRunRow } from '../../storage/repositories/evals.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'
import type { FilesService } from '../files/service.js'
import type { ChatService } from '../inference/chat.js'
import type { EmbeddingsService } from '../inference/embeddings.js'
import { usageQueries, usageRow, type UsageEntry } from '../inference/usage.js'
import type { Sandbox } from '../../sandbox/index.js'
import { estimateEmbeddingTokens } from '../limits/estimate.js'
import { Pacer } from '../../pacing.js'
import { grade, type GraderTools } from './graders.js'
import { Totals, type ItemOutcome } from './totals.js'
import { checkItems, compileItemSchema, type StoredConfig } from './item-schema.js'
import { loadItems, type DataItem } from './items.js'
import { underLimits, type EvalLimits } from './limited.js'
import { PythonGrader } from './python.js'
import type { EvalRunJobPayload } from './objects.js'
import { chatSampling, messageText, Sampler, toChatMessages, toEvalError, type ChatMessage } from './sampler.js'
import { lookup, type TemplateContext } from './template.js'

export type EvalRunDeps = {
  storage: Storage
  files: Pick<FilesService, 'content'>
  chat: Pick<ChatService, 'create'>
  /** the code interpreter's sandbox, for python graders */
  sandbox?: Sandbox
  /** the cosine metric: the embeddings service and the project's embedding model */
  embeddings?: Pick<EmbeddingsService, 'create'>
  embeddingModel?: (projectId: string) => string
  /** the project's rate limits: every model call of a run counts against them */
  limits?: EvalLimits
  /** items of one run sampled and graded at once (`evals.concurrency`, default 4) */
  concurrency?: number
}

const DEFAULT_CONCURRENCY = 4

export type EvalRunOptions = { signal: AbortSignal; lastAttempt: boolean }

/** What the spec shows when sampling_params leaves them out (its defaults; 2048 as OpenAI shows). */
const DEFAULTS = { temperature: 1, top_p: 1, seed: 42, max_completion_tokens: 2048 }

/** Thrown inside an item's transaction when the run was canceled or deleted meanwhile. */
class RunGone extends Error {}

/**
 * The eval.run job: queued → in_progress (once the items match a custom config's item_schema),
 * then each data source item sampled (completions and responses sources, through the chat
 * service, under the project's rate limits) and graded, `concurrency` items at once; its output
 * item, the run's counts and the item's usage written in one transaction, in the source's order
 * (so a retried job skips written items and bills each once); completed at the end, failed when
 * the source cannot be read or an item does not match. A cancel or delete seen at an item's
 * commit, or the job's signal, stops every item in flight.
 */
export class EvalRunExecutor {
  constructor(private readonly deps: EvalRunDeps) {}

  async run(payload: EvalRunJobPayload, options: EvalRunOptions): Promise<void> {
    const repos = createRepos(this.deps.storage.db)
    const run = await repos.evalRuns.get(payload.projectId, payload.evalId, payload.runId)
    if (!run || (run.status !== 'queued' && run.status !== 'in_progress')) return
    const evalRow = await repos.evals.get(payload.projectId, payload.evalId)
    if (!evalRow) return
    const project = await repos.projects.get(run.project_id)
    const principal = jobPrincipal(run, project)
    const log = jobLog.child({ evalRun: run.id })
    try {
      await this.execute(run, evalRow, principal, options.signal)
    } catch (error) {
      if (error instanceof RunGone || options.signal.aborted) throw error
      if (!(error instanceof ApiError) && !options.lastAttempt) throw error
      log.warn({ err: error }, 'eval run failed')
      await this.fail(run, error instanceof ApiError ? toEvalError(error) : { code: 'internal_error', message: 'The run failed.' })
    }
  }

  private async execute(run: EvalRunRow, evalRow: EvalRow, principal: ProjectPrincipal, signal: AbortSignal) {
    const repos = createRepos(this.deps.storage.db)
    const dataSource = JSON.parse(run.data_source) as RunDataSource
    const graders = JSON.parse(evalRow.testing_criteria) as Grader[]
    const config = JSON.parse(evalRow.data_source_config) as StoredConfig
    const items = await loadItems(this.deps, principal, dataSource.source)
    // a custom config's items must match its item_schema: checked whole before any model call
    if (config.type === 'custom') await checkItems(compileItemSchema(config.schema?.properties?.item), items, signal)
    let totals = new Totals(graders)
    const done = new Set<number>()
    for (const row of await repos.evalOutputItems.written(run.id)) {
      done.add(row.datasource_item_id)
      const sample = row.sample ? (JSON.parse(row.sample) as EvalSample) : null
      const usage = (JSON.parse(row.usage) as UsageEntry[]) ?? []
      totals.add({ status: row.status as 'pass' | 'fail', errored: !!sample?.error || hasError(row.results), results: JSON.parse(row.results) }, usage)
    }
    const started = await repos.evalRuns.transition(run.id, ['queued', 'in_progress'], {
      status: 'in_progress',
      result_total: items.length,
      ...totals.columns(),
    })
    if (!started) return
    // the job's signal, or the run's own end (a failed item, a cancel seen at a commit): stops
    // every item in flight
    const stop = new AbortController()
    const onAbort = () => stop.abort(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    if (signal.aborted) onAbort()
    const sampler = new Sampler(this.deps.chat, principal, stop.signal, this.deps.limits)
    const needsPython = graders.some((g) => g.type === 'python') && this.deps.sandbox
    const tools: GraderTools = {
      sampler,
      signal: stop.signal,
      python: needsPython ? new PythonGrader(this.deps.sandbox!, `eval:${run.id}`) : undefined,
      embed: this.embedder(principal, stop.signal),
    }
    const concurrency = this.deps.concurrency ?? DEFAULT_CONCURRENCY
    // items in source order, up to `concurrency` in flight; each is written when it and every
    // item before it are done, so output items keep the source's order (their ids sort so) and
    // one writer updates the counts
    const window: { index: number; outcome: Promise<ItemOutcome> }[] = []
    const pacer = new Pacer()
    const writeFirst = async (): Promise<boolean> => {
      const { index, outcome } = window[0]
      const result = await outcome
      stop.signal.throwIfAborted()
      try {
        totals = await this.save(run, principal, index, items[index], result, totals)
      } catch (error) {
        if (error instanceof RunGone) return false
        throw error
      }
      window.shift()
      return true
    }
    try {
      for (let index = 0; index < items.length; index++) {
        // items already written are skipped, the rest started, in slices of the loop's turn
        await pacer.pace()
        if (done.has(index)) continue
        stop.signal.throwIfAborted()
        const outcome = this.item(items[index], dataSource, graders, tools)
        // awaited in order by writeFirst; one that fails meanwhile must not be unhandled
        outcome.catch(() => undefined)
        window.push({ index, outcome })
        while (window.length >= concurrency) if (!(await writeFirst())) return
      }
      while (window.length) if (!(await writeFirst())) return
    } finally {
      // on any way out, nothing keeps running: the items in flight stop and are waited for
      if (window.length) stop.abort(signal.reason)
      await Promise.allSettled(window.map((w) => w.outcome))
      signal.removeEventListener('abort', onAbort)
      await tools.python?.close()
    }
    await repos.evalRuns.transition(run.id, ['in_progress'], { status: 'completed' })
  }

  /** Samples (unless the source is plain jsonl) and grades one item. */
  private async item(data: DataItem, source: RunDataSource, graders: Grader[], tools: GraderTools): Promise<ItemOutcome> {
    const { sampler } = tools
    const context: TemplateContext = { item: data.item, sample: data.sample ?? null }
    const usage: UsageEntry[] = []
    let sample: EvalSample | null = null
    if (source.type !== 'jsonl') {
      const model = source.model!
      const sampling = source.sampling_params
      const shown = {
        temperature: sampling?.temperature ?? DEFAULTS.temperature,
        max_completion_tokens: sampling?.max_completion_tokens ?? DEFAULTS.max_completion_tokens,
        top_p: sampling?.top_p ?? DEFAULTS.top_p,
        seed: sampling?.seed ?? DEFAULTS.seed,
      }
      let messages: ChatMessage[] = []
      try {
        messages = inputMessages(source, context)
        const sampled = await sampler.sample(model, messages, { seed: shown.seed, ...chatSampling(sampling) })
        usage.push(...sampled.usage)
        const u = sampled.completion.usage
        const message = sampled.completion.choices[0]?.message as Record<string, unknown> | undefined
        sample = {
          input: messages.map((m) => ({ role: m.role, content: messageText(m) })),
          output: [{ role: 'assistant', content: sampled.text }],
          finish_reason: sampled.completion.choices[0]?.finish_reason ?? 'stop',
          model: sampled.completion.model,
          usage: {
            total_tokens: u?.total_tokens ?? 0,
            completion_tokens: u?.completion_tokens ?? 0,
            prompt_tokens: u?.prompt_tokens ?? 0,
            cached_tokens: u?.prompt_tokens_details?.cached_tokens ?? 0,
          },
          error: null,
          ...shown,
        }
        context.sample = {
          model: sampled.completion.model,
          choices: sampled.completion.choices,
          output_text: sampled.text,
          output_json: parseJson(sampled.text),
          output_tools: message?.tool_calls ?? [],
        }
      } catch (error) {
        if (sampler.aborted) throw error
        const failed: EvalSample = {
          input: messages.map((m) => ({ role: m.role, content: messageText(m) })),
          output: [],
          finish_reason: '',
          model,
          usage: { total_tokens: 0, completion_tokens: 0, prompt_tokens: 0, cached_tokens: 0 },
          error: toEvalError(error),
          ...shown,
        }
        return { status: 'fail', errored: true, results: [], sample: failed, usage }
      }
    }
    const results: GraderResult[] = []
    let errored = false
    for (const grader of graders) {
      const graded = await grade(grader, context, tools)
      sampler.throwIfAborted()
      results.push(graded.result)
      usage.push(...graded.usage)
      errored ||= graded.errored
    }
    const status = !errored && results.every((r) => r.passed) ? 'pass' : 'fail'
    return { status, errored, results, sample, usage }
  }

  /** Embeds with the project's embedding model, the usage billed with the item. */
  private embedder(principal: ProjectPrincipal, signal: AbortSignal): GraderTools['embed'] {
    const { embeddings, embeddingModel } = this.deps
    if (!embeddings || !embeddingModel) return undefined
    return async (texts) => {
      const usage: UsageEntry[] = []
      const model = embeddingModel(principal.projectId)
      const params = { model, input: texts, encoding_format: 'float' as const }
      const answer = await underLimits(this.deps.limits, principal, model, estimateEmbeddingTokens(params), signal, (limit) =>
        embeddings.create(principal, params, { signal, usageSink: (entry) => void usage.push(entry), limit }),
      )
      return { vectors: answer.data.map((d) => d.embedding as number[]), usage }
    }
  }

  /** Writes one output item, the run's counts and the item's usage at once; returns the new totals. */
  private async save(run: EvalRunRow, principal: ProjectPrincipal, index: number, data: DataItem, outcome: ItemOutcome, totals: Totals): Promise<Totals> {
    return this.deps.storage.transaction(async (tx) => {
      const repos = createRepos(tx.db)
      const inserted = await repos.evalOutputItems.insert({
        id: newId('outputitem_'),
        run_id: run.id,
        eval_id: run.eval_id,
        project_id: run.project_id,
        datasource_item_id: index,
        status: outcome.status,
        datasource_item: JSON.stringify(data.item),
        results: JSON.stringify(outcome.results),
        sample: outcome.sample ? JSON.stringify(outcome.sample) : null,
        usage: JSON.stringify(outcome.usage),
        created_at: nowSeconds(),
      })
      // another run of this job wrote it already (and billed it)
      if (!inserted) return totals
      const next = totals.clone()
      next.add(outcome, outcome.usage)
      const moved = await repos.evalRuns.transition(run.id, ['in_progress'], next.columns())
      if (!moved) throw new RunGone()
      await tx.runBatch(usageQueries(tx, outcome.usage.flatMap((entry) => usageRow(principal, entry) ?? [])))
      return next
    })
  }

  private async fail(run: EvalRunRow, error: EvalApiError) {
    await createRepos(this.deps.storage.db).evalRuns.transition(run.id, ['queued', 'in_progress'], {
      status: 'failed',
      error: JSON.stringify(error),
    })
  }
}

function hasError(results: string): boolean {
  return (JSON.parse(results) as GraderResult[]).some((r) => r.error)
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

/** The messages a completions/responses source samples with, for one item. */
function inputMessages(source: Exclude<RunDataSource, { type: 'jsonl' }>, context: TemplateContext): ChatMessage[] {
  const input = source.input_messages!
  if (input.type === 'template') return toChatMessages(input.template as TemplateMessage[], context)
  const referenced = lookup(context, input.item_reference)
  if (typeof referenced === 'string') return [{ role: 'user', content: referenced }]
  if (!Array.isArray(referenced)) {
    throw evalBadItemReference(input.item_reference)
  }
  return toChatMessages(referenced as TemplateMessage[], { item: {} })
}
