import type { Grader, GraderResult, TemplateMessage } from '../../schemas/evals.js'
import type { UsageEntry } from '../inference/usage.js'
import type { PythonGrader } from './python.js'
import { messageText, toChatMessages, toEvalError, type Sampled, type Sampler } from './sampler.js'
import { similarity } from './similarity.js'
import { render, type TemplateContext } from './template.js'

export type Graded = { result: GraderResult; usage: UsageEntry[]; errored: boolean }

/** What graders call: the chat models, and the sandbox for python graders (when there is one). */
export type GraderTools = {
  sampler: Sampler
  python?: PythonGrader
  /** embeds texts with the project's embedding model (the cosine metric) */
  embed?: (texts: string[]) => Promise<{ vectors: number[][]; usage: UsageEntry[] }>
  signal: AbortSignal
}

/** The pass threshold of a python grader that names none: its score is usually 0 or 1. */
const PYTHON_PASS_THRESHOLD = 0.5

/** Applies one grader to one item. */
export async function grade(grader: Grader, context: TemplateContext, tools: GraderTools): Promise<Graded> {
  const base = { name: grader.id, type: grader.type, sample: null }
  switch (grader.type) {
    case 'string_check': {
      const passed = stringCheck(grader.operation, render(grader.input, context), render(grader.reference, context))
      return { result: { ...base, passed, score: passed ? 1 : 0 }, usage: [], errored: false }
    }
    case 'text_similarity': {
      const metric = grader.evaluation_metric
      const [input, reference] = [render(grader.input, context), render(grader.reference, context)]
      if (metric !== 'cosine') {
        const score = await similarity(metric, input, reference, tools.signal)
        return { result: { ...base, passed: score >= grader.pass_threshold, score }, usage: [], errored: false }
      }
      try {
        if (!tools.embed) throw new Error('This server has no embedding model for the cosine metric.')
        const { vectors, usage } = await tools.embed([input, reference])
        const score = cosine(vectors[0], vectors[1])
        return { result: { ...base, passed: score >= grader.pass_threshold, score }, usage, errored: false }
      } catch (error) {
        tools.signal.throwIfAborted()
        return { result: { ...base, passed: false, score: 0, error: toEvalError(error) }, usage: [], errored: true }
      }
    }
    case 'label_model':
    case 'score_model':
      return modelGrade(grader, context, tools.sampler)
    case 'python': {
      try {
        if (!tools.python) throw new Error('This server has no code interpreter sandbox to run python graders.')
        const score = await tools.python.score(grader.source, context.sample, context.item, tools.signal)
        const passed = score >= (grader.pass_threshold ?? PYTHON_PASS_THRESHOLD)
        return { result: { ...base, passed, score }, usage: [], errored: false }
      } catch (error) {
        tools.signal.throwIfAborted()
        const message = error instanceof Error ? error.message : String(error)
        return { result: { ...base, passed: false, score: 0, error: { code: 'python_grader_error', message } }, usage: [], errored: true }
      }
    }
  }
}

export function cosine(a: number[], b: number[]): number {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i]
    na += a[i] * a[i]
    nb += b[i] * b[i]
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0
}

/** eq / ne: exact; like: contains; ilike: contains, ignoring case. */
export function stringCheck(operation: 'eq' | 'ne' | 'like' | 'ilike', input: string, reference: string): boolean {
  switch (operation) {
    case 'eq':
      return input === reference
    case 'ne':
      return input !== reference
    case 'like':
      return input.includes(reference)
    case 'ilike':
      return input.toLowerCase().includes(reference.toLowerCase())
  }
}

type ModelGrader = Extract<Grader, { type: 'label_model' | 'score_model' }>

/**
 * label_model: the model is told the labels and answers one; the item passes when that label is
 * a passing one. score_model: the model answers a number in `range` (default [0, 1]); the item
 * passes at `pass_threshold` or above (default: the middle of the range).
 */
async function modelGrade(grader: ModelGrader, context: TemplateContext, sampler: Sampler): Promise<Graded> {
  const messages = toChatMessages(grader.input as TemplateMessage[], context)
  const range = grader.type === 'score_model' ? (grader.range ?? [0, 1]) : [0, 1]
  const instruction =
    grader.type === 'label_model'
      ? `Answer with exactly one of these labels and nothing else: ${grader.labels.join(', ')}.`
      : `Answer with a single number from ${range[0]} to ${range[1]} and nothing else.`
  messages.unshift({ role: 'system', content: instruction })
  const extra: Record<string, unknown> = {}
  if (grader.type === 'score_model' && grader.sampling_params) {
    const p = grader.sampling_params
    if (p.temperature != null) extra.temperature = p.temperature
    if (p.top_p != null) extra.top_p = p.top_p
    if (p.seed != null) extra.seed = p.seed
    if (p.max_completions_tokens != null) extra.max_completion_tokens = p.max_completions_tokens
    if (p.reasoning_effort != null) extra.reasoning_effort = p.reasoning_effort
  }
  let sampled: Sampled
  try {
    sampled = await sampler.sample(grader.model, messages, extra)
  } catch (error) {
    const result = { name: grader.id, type: grader.type, passed: false, score: 0, sample: null, error: toEvalError(error) }
    return { result, usage: [], errored: true }
  }
  const sample = graderSample(grader.model, messages, sampled)
  const base = { name: grader.id, type: grader.type, sample }
  if (grader.type === 'label_model') {
    const label = pickLabel(sampled.text, grader.labels)
    const passed = label !== undefined && grader.passing_labels.includes(label)
    return { result: { ...base, passed, score: passed ? 1 : 0, label: label ?? null }, usage: sampled.usage, errored: false }
  }
  const score = readScore(sampled.text)
  const threshold = grader.pass_threshold ?? (range[0] + range[1]) / 2
  const passed = score !== undefined && score >= threshold
  return { result: { ...base, passed, score: score ?? 0 }, usage: sampled.usage, errored: false }
}

/** The label the answer names: the answer itself, or failing that the first label it contains. */
export function pickLabel(answer: string, labels: string[]): string | undefined {
  const text = answer.trim().replace(/^["'`]+|["'`.]+$/g, '').toLowerCase()
  const exact = labels.find((label) => label.toLowerCase() === text)
  if (exact !== undefined) return exact
  return labels.find((label) => new RegExp(`\\b${escapeRegExp(label.toLowerCase())}\\b`).test(text))
}

/** The first number of the answer, or the `score`/`result` of a JSON answer. */
export function readScore(answer: string): number | undefined {
  try {
    const json = JSON.parse(answer)
    if (typeof json === 'number') return json
    for (const key of ['score', 'result', 'steps']) if (typeof json?.[key] === 'number') return json[key]
  } catch {
    // not JSON: read the first number
  }
  const match = answer.match(/-?\d+(?:\.\d+)?/)
  return match ? Number(match[0]) : undefined
}

function escapeRegExp(text: string) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function graderSample(model: string, messages: ReturnType<typeof toChatMessages>, sampled: Sampled) {
  const usage = sampled.completion.usage
  return {
    input: messages.map((m) => ({ role: m.role, content: messageText(m) })),
    output: [{ role: 'assistant', content: sampled.text }],
    finish_reason: sampled.completion.choices[0]?.finish_reason ?? 'stop',
    model,
    usage: {
      total_tokens: usage?.total_tokens ?? 0,
      completion_tokens: usage?.completion_tokens ?? 0,
      prompt_tokens: usage?.prompt_tokens ?? 0,
      cached_tokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
    },
    error: null,
  }
}
