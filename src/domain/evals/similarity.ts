import { Pacer } from '../../pacing.js'
import type { SimilarityMetric } from '../../schemas/evals.js'

/**
 * The text_similarity grader's metrics, each a score in [0, 1] (docs/evals.md says how each is
 * computed). Words are lower-cased runs of letters and digits; `fuzzy_match` compares the raw
 * strings. `cosine` needs an embeddings model and is refused when the eval is created.
 */
export async function similarity(metric: Exclude<SimilarityMetric, 'cosine'>, output: string, reference: string, signal?: AbortSignal): Promise<number> {
  // fuzzy_match, rouge_l and meteor take time in the product of the two lengths: two long texts
  // would hold the event loop for seconds, so they yield between rows (pacing.ts)
  const pacer = new Pacer()
  if (metric === 'fuzzy_match') return fuzzyRatio(output, reference, pacer, signal)
  const hyp = words(output)
  const ref = words(reference)
  switch (metric) {
    case 'bleu':
      return bleu(hyp, ref)
    case 'gleu':
      return gleu(hyp, ref)
    case 'meteor':
      return meteor(hyp, ref, pacer, signal)
    case 'rouge_l':
      return f1(await lcs(hyp, ref, pacer, signal), hyp.length, ref.length)
    default:
      return rougeN(hyp, ref, Number(metric.slice('rouge_'.length)))
  }
}

export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []
}

/** rapidfuzz's `fuzz.ratio` / 100: 1 − indel distance / total length, on characters. */
export async function fuzzyRatio(a: string, b: string, pacer = new Pacer(), signal?: AbortSignal): Promise<number> {
  if (!a.length && !b.length) return 1
  const [x, y] = [[...a], [...b]]
  return (2 * (await lcs(x, y, pacer, signal))) / (x.length + y.length)
}

/** Length of the longest common subsequence (two rows of the table), yielding between rows. */
async function lcs<T>(a: T[], b: T[], pacer: Pacer, signal?: AbortSignal): Promise<number> {
  let prev = new Array<number>(b.length + 1).fill(0)
  for (const x of a) {
    await pacer.pace(signal)
    const row = new Array<number>(b.length + 1).fill(0)
    for (let j = 0; j < b.length; j++) row[j + 1] = x === b[j] ? prev[j] + 1 : Math.max(prev[j + 1], row[j])
    prev = row
  }
  return prev[b.length]
}

function ngrams(tokens: string[], n: number): Map<string, number> {
  const counts = new Map<string, number>()
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join('\u0000')
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return counts
}

/** n-grams of `hyp` also in `ref`, each counted at most as often as `ref` has it. */
function overlap(hyp: Map<string, number>, ref: Map<string, number>): number {
  let matched = 0
  for (const [key, count] of hyp) matched += Math.min(count, ref.get(key) ?? 0)
  return matched
}

function f1(matched: number, hypCount: number, refCount: number): number {
  if (!matched || !hypCount || !refCount) return 0
  const precision = matched / hypCount
  const recall = matched / refCount
  return (2 * precision * recall) / (precision + recall)
}

function rougeN(hyp: string[], ref: string[], n: number): number {
  const h = ngrams(hyp, n)
  const r = ngrams(ref, n)
  return f1(overlap(h, r), Math.max(0, hyp.length - n + 1), Math.max(0, ref.length - n + 1))
}

/**
 * Sentence BLEU: the geometric mean of clipped n-gram precisions up to 4 (up to the shorter
 * text's length, so a short exact answer scores 1), times the brevity penalty; a precision of
 * zero counts as 0.1 matches (smoothing "method 1"), so one missing 4-gram does not zero it.
 */
function bleu(hyp: string[], ref: string[]): number {
  if (!hyp.length || !ref.length) return 0
  const maxN = Math.min(4, hyp.length, ref.length)
  let logSum = 0
  for (let n = 1; n <= maxN; n++) {
    const total = hyp.length - n + 1
    const matched = overlap(ngrams(hyp, n), ngrams(ref, n))
    if (n === 1 && matched === 0) return 0
    logSum += Math.log((matched || 0.1) / total)
  }
  const brevity = hyp.length >= ref.length ? 1 : Math.exp(1 - ref.length / hyp.length)
  return brevity * Math.exp(logSum / maxN)
}

/** Google-BLEU: n-grams (1 to 4) in common over the larger of either side's n-gram count. */
function gleu(hyp: string[], ref: string[]): number {
  let matched = 0
  let hypTotal = 0
  let refTotal = 0
  for (let n = 1; n <= 4; n++) {
    const h = ngrams(hyp, n)
    const r = ngrams(ref, n)
    matched += overlap(h, r)
    hypTotal += Math.max(0, hyp.length - n + 1)
    refTotal += Math.max(0, ref.length - n + 1)
  }
  const denominator = Math.max(hypTotal, refTotal)
  return denominator ? matched / denominator : 0
}

/**
 * METEOR on exact word matches (no stems or synonyms): the recall-weighted harmonic mean
 * (α 0.9) times 1 − 0.5·(chunks / matches)³, NLTK's defaults.
 */
async function meteor(hyp: string[], ref: string[], pacer: Pacer, signal?: AbortSignal): Promise<number> {
  const used = new Array<boolean>(ref.length).fill(false)
  const alignment: number[] = []
  for (const word of hyp) {
    await pacer.pace(signal)
    const j = ref.findIndex((r, k) => !used[k] && r === word)
    if (j >= 0) {
      used[j] = true
      alignment.push(j)
    } else alignment.push(-1)
  }
  const matches = alignment.filter((j) => j >= 0).length
  if (!matches) return 0
  const precision = matches / hyp.length
  const recall = matches / ref.length
  const fmean = (precision * recall) / (0.9 * precision + 0.1 * recall)
  // a chunk is a run of matched words adjacent in both texts
  let chunks = 0
  let last = -2
  for (const j of alignment) {
    if (j < 0) {
      last = -2
      continue
    }
    if (j !== last + 1) chunks++
    last = j
  }
  const penalty = 0.5 * (chunks / matches) ** 3
  return fmean * (1 - penalty)
}
