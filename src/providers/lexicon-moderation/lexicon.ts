import { englishDataset, englishRecommendedTransformers, RegExpMatcher } from 'obscenity'
import type { ModerationCategory } from '../moderation-backend.js'

export type Weights = Partial<Record<ModerationCategory, number>>

/**
 * What each of obscenity's English words says about the categories. Profanity alone ("shit",
 * "fuck" as an expletive) is not harmful in OpenAI's sense and weighs almost nothing; slurs are
 * hate; insults are harassment only when aimed at someone (rules.ts); sexual words are sexual,
 * strongly when explicit, weakly when anatomical or educational ("sex", "penis").
 */
const WORDS: Record<string, Weights> = {
  // slurs
  abo: { hate: 0.7, harassment: 0.4 },
  abeed: { hate: 0.7, harassment: 0.4 },
  africoon: { hate: 0.8, harassment: 0.4 },
  arabush: { hate: 0.7, harassment: 0.4 },
  boonga: { hate: 0.7, harassment: 0.4 },
  chingchong: { hate: 0.7, harassment: 0.4 },
  chink: { hate: 0.7, harassment: 0.4 },
  dyke: { hate: 0.6, harassment: 0.4 },
  fag: { hate: 0.7, harassment: 0.5 },
  kike: { hate: 0.8, harassment: 0.4 },
  // "Negro Leagues": historical and still in names, weak alone
  negro: { hate: 0.3 },
  nigger: { hate: 0.85, harassment: 0.5 },
  tranny: { hate: 0.6, harassment: 0.4 },
  retard: { harassment: 0.45, hate: 0.3 },
  spastic: { harassment: 0.4, hate: 0.2 },
  // insults: weak alone, strong when aimed at "you" (rules.ts)
  bitch: { harassment: 0.35 },
  cunt: { harassment: 0.4 },
  bastard: { harassment: 0.3 },
  prick: { harassment: 0.3 },
  twat: { harassment: 0.3 },
  cuck: { harassment: 0.3 },
  whore: { harassment: 0.3, sexual: 0.3 },
  slut: { harassment: 0.3, sexual: 0.3 },
  // profanity
  fuck: { harassment: 0.1 },
  shit: { harassment: 0.05 },
  piss: {},
  turd: {},
  arse: {},
  ass: {},
  bollocks: {},
  // explicit sexual
  porn: { sexual: 0.6 },
  blowjob: { sexual: 0.65 },
  handjob: { sexual: 0.65 },
  dildo: { sexual: 0.6 },
  cum: { sexual: 0.55 },
  jizz: { sexual: 0.6 },
  orgasm: { sexual: 0.5 },
  masturbate: { sexual: 0.5 },
  gangbang: { sexual: 0.7 },
  deepthroat: { sexual: 0.65 },
  hentai: { sexual: 0.6 },
  fellatio: { sexual: 0.6 },
  pussy: { sexual: 0.55 },
  cock: { sexual: 0.55 },
  buttplug: { sexual: 0.6 },
  'double penetration': { sexual: 0.7 },
  'finger bang': { sexual: 0.65 },
  fisting: { sexual: 0.55 },
  lubejob: { sexual: 0.65 },
  felch: { sexual: 0.65 },
  ejaculate: { sexual: 0.45 },
  semen: { sexual: 0.35 },
  doggystyle: { sexual: 0.6 },
  orgy: { sexual: 0.55 },
  'jerk off': { sexual: 0.55 },
  wank: { sexual: 0.45 },
  bestiality: { sexual: 0.8 },
  incest: { sexual: 0.55 },
  hooker: { sexual: 0.35 },
  // anatomical or educational
  sex: { sexual: 0.35 },
  anal: { sexual: 0.4 },
  dick: { sexual: 0.35, harassment: 0.2 },
  tit: { sexual: 0.35 },
  boob: { sexual: 0.35 },
  penis: { sexual: 0.3 },
  vagina: { sexual: 0.3 },
  anus: { sexual: 0.2 },
  // sexual violence
  rape: { sexual: 0.5, violence: 0.6 },
  scat: { sexual: 0.3 },
}

/** Words obscenity matches inside harmless words, which its own whitelist lacks. */
const BENIGN_WORDS = new Set([
  'cumin',
  'cockpit',
  'cockpits',
  'cockroach',
  'cockroaches',
  'peacock',
  'peacocks',
  'hancock',
  'shuttlecock',
  'weathercock',
  'pussycat',
  'pussycats',
  'pussywillow',
  'penistone',
  'dickens',
  'scatter',
  'scattered',
  'titbit',
])

const matcher = new RegExpMatcher({ ...englishDataset.build(), ...englishRecommendedTransformers })

export type LexiconHit = { word: string; weights: Weights }

/** The longest harmless word looked for around a match: the list's words are shorter. */
const MAX_WORD = 16

/**
 * obscenity's words in a (normalized) text, less those inside harmless words; each word once, so
 * "porn porn porn" weighs what "porn" does.
 */
export function lexiconHits(text: string): LexiconHit[] {
  const hits: LexiconHit[] = []
  const seen = new Set<string>()
  for (const match of matcher.getAllMatches(text)) {
    const word = englishDataset.getPayloadWithPhraseMetadata(match).phraseMetadata?.originalWord
    if (!word || seen.has(word)) continue
    const whole = enclosingWord(text, match.startIndex, match.endIndex)
    if (BENIGN_WORDS.has(whole)) continue
    if (word === 'cum' && /^\s+laude\b/.test(text.slice(match.endIndex + 1, match.endIndex + 8))) continue
    seen.add(word)
    hits.push({ word, weights: WORDS[word] ?? {} })
  }
  return hits
}

function enclosingWord(text: string, start: number, end: number): string {
  let from = start
  let to = end + 1
  // bounded: in "fuckfuckfuck..." every match would otherwise scan the whole run
  while (from > 0 && start - from < MAX_WORD && /[a-z]/.test(text[from - 1])) from--
  while (to < text.length && to - end < MAX_WORD && /[a-z]/.test(text[to])) to++
  return text.slice(from, to)
}
