import { Pacer } from '../../pacing.js'
import { MODERATION_CATEGORIES, type ModerationCategory } from '../moderation-backend.js'
import { lexiconHits, type Weights } from './lexicon.js'
import { normalizeText } from './normalize.js'
import { AIMED_AT_YOU, RULES, SEXUAL_WITH_MINOR } from './rules.js'

/** A category is flagged at this score or above. */
export const FLAG_THRESHOLD = 0.5

/** Each subcategory implies its parent: the parent scores at least as high. */
const PARENTS: [ModerationCategory, ModerationCategory][] = [
  ['harassment/threatening', 'harassment'],
  ['hate/threatening', 'hate'],
  ['illicit/violent', 'illicit'],
  ['self-harm/intent', 'self-harm'],
  ['self-harm/instructions', 'self-harm'],
  ['sexual/minors', 'sexual'],
  ['violence/graphic', 'violence'],
]

/**
 * Texts are scanned in windows of this many characters, overlapping by WINDOW_OVERLAP (longer than
 * any phrase a rule matches), with a pause for other requests between windows when the turn's
 * slice is spent: a window takes 0.5-5 ms, a 32 MB body would otherwise hold the loop for
 * seconds.
 */
const WINDOW = 1000
const WINDOW_OVERLAP = 200
/** Insults obscenity knows, which count as harassment when "you" is this close before or after. */
const AIM_DISTANCE = 24

export type Scores = Record<ModerationCategory, number>
export type Classification = { scores: Scores; rules: string[] }

export function zeroScores(): Scores {
  return Object.fromEntries(MODERATION_CATEGORIES.map((c) => [c, 0])) as Scores
}

/**
 * Scores one text. Each category's score is the noisy-OR of the weights of every rule and word
 * that matched: 1 - (1 - w1)(1 - w2)..., so one strong match or several weak ones cross the
 * threshold and no score leaves [0, 1]. Parents are then raised to their subcategories.
 */
export async function classifyText(text: string, signal?: AbortSignal): Promise<Classification> {
  const pacer = new Pacer()
  const keep = new Map<ModerationCategory, number>()
  const rules = new Set<string>()
  for (let start = 0; start < text.length || start === 0; start += WINDOW - WINDOW_OVERLAP) {
    await pacer.pace(signal)
    const window = classifyWindow(text.slice(start, start + WINDOW))
    for (const category of MODERATION_CATEGORIES) keep.set(category, Math.max(keep.get(category) ?? 0, window.scores[category]))
    for (const rule of window.rules) rules.add(rule)
    if (start + WINDOW >= text.length) break
  }
  const scores = zeroScores()
  for (const [category, score] of keep) scores[category] = score
  return { scores, rules: [...rules] }
}

/** One window, scanned whole in one go. */
export function classifyWindow(raw: string): Classification {
  const text = normalizeText(raw)
  const misses = new Map<ModerationCategory, number>()
  const matched: string[] = []
  const add = (weights: Weights) => {
    for (const [category, weight] of Object.entries(weights) as [ModerationCategory, number][]) {
      misses.set(category, (misses.get(category) ?? 1) * (1 - weight))
    }
  }
  for (const rule of RULES) {
    // a rule counts once per window, however often it matches
    if (rule.pattern.test(text)) {
      matched.push(rule.id)
      add(rule.weights)
    }
  }
  for (const hit of lexiconHits(text)) {
    matched.push(`word:${hit.word}`)
    add(hit.weights)
  }
  aimedInsults(text, add, matched)
  const scores = zeroScores()
  for (const [category, miss] of misses) scores[category] = round(1 - miss)
  if (scores.sexual >= SEXUAL_WITH_MINOR.minSexual && SEXUAL_WITH_MINOR.pattern.test(text)) {
    matched.push('sexual-with-minor')
    scores['sexual/minors'] = Math.max(scores['sexual/minors'], SEXUAL_WITH_MINOR.weight)
  }
  for (const [child, parent] of PARENTS) scores[parent] = Math.max(scores[parent], scores[child])
  return { scores, rules: matched }
}

const INSULT_WORDS = /\b(?:bitch|cunt|whore|slut|bastard|prick|twat|dick|cuck|retard|fag|faggot|kike|chink|nigger|tranny|dyke|spic)\w*/g

/** "you fat bitch", "bitch, you...": an insulting word with "you" close by, once per window. */
function aimedInsults(text: string, add: (weights: Weights) => void, matched: string[]) {
  INSULT_WORDS.lastIndex = 0
  for (let match = INSULT_WORDS.exec(text); match; match = INSULT_WORDS.exec(text)) {
    const around = text.slice(Math.max(0, match.index - AIM_DISTANCE), match.index + match[0].length + AIM_DISTANCE)
    if (AIMED_AT_YOU.test(around)) {
      matched.push('insult-aimed')
      add({ harassment: 0.6 })
      return
    }
  }
}

function round(score: number): number {
  return Math.round(score * 1e6) / 1e6
}
