import type { CriteriaResult, EvalSample, Grader, GraderResult, ModelUsage } from '../../schemas/evals.js'
import type { UsageEntry } from '../inference/usage.js'

/** One item sampled and graded: what its output item holds, and the usage billed with it. */
export type ItemOutcome = {
  status: 'pass' | 'fail'
  errored: boolean
  results: GraderResult[]
  sample: EvalSample | null
  usage: UsageEntry[]
}

/** Per-run totals, rebuilt from the items already written when a job is retried. */
export class Totals {
  passed = 0
  failed = 0
  errored = 0
  readonly criteria = new Map<string, CriteriaResult>()
  readonly models = new Map<string, ModelUsage>()

  constructor(graders: Grader[]) {
    for (const g of graders) this.criteria.set(g.id, { testing_criteria: g.id, passed: 0, failed: 0 })
  }

  /** A copy to add an item to: it replaces these totals only once the item's transaction commits. */
  clone(): Totals {
    const copy = new Totals([])
    copy.passed = this.passed
    copy.failed = this.failed
    copy.errored = this.errored
    for (const [id, c] of this.criteria) copy.criteria.set(id, { ...c })
    for (const [model, m] of this.models) copy.models.set(model, { ...m })
    return copy
  }

  add(outcome: Pick<ItemOutcome, 'status' | 'errored' | 'results'>, usage: UsageEntry[]) {
    if (outcome.errored) this.errored++
    else if (outcome.status === 'pass') this.passed++
    else this.failed++
    for (const result of outcome.results) {
      const c = this.criteria.get(result.name)
      if (c) result.passed ? c.passed++ : c.failed++
    }
    for (const entry of usage) {
      const m = this.models.get(entry.model) ?? {
        model_name: entry.model,
        invocation_count: 0,
        prompt_tokens: 0,
        completion_tokens: 0,
        total_tokens: 0,
        cached_tokens: 0,
      }
      m.invocation_count++
      m.prompt_tokens += entry.inputTokens
      m.completion_tokens += entry.outputTokens
      m.total_tokens += entry.inputTokens + entry.outputTokens
      m.cached_tokens += entry.cachedTokens ?? 0
      this.models.set(entry.model, m)
    }
  }

  columns() {
    return {
      result_passed: this.passed,
      result_failed: this.failed,
      result_errored: this.errored,
      per_model_usage: JSON.stringify([...this.models.values()]),
      per_testing_criteria_results: JSON.stringify([...this.criteria.values()]),
    }
  }
}
