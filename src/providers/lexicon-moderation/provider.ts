import { notAChatModel } from '../../errors.js'
import { MODERATION_CATEGORIES, type ModerationAnswer, type ModerationCall, type ModerationItem, type ModerationResult } from '../moderation-backend.js'
import type { ModelCard, Provider, StreamPart } from '../provider.js'
import { classifyText, FLAG_THRESHOLD, zeroScores, type Scores } from './classify.js'
import { JUDGE_MODEL_ID, judgeText } from './judge.js'

export const LEXICON_MODEL_ID = 'lexicon-moderation'

const CREATED = 1_704_067_200 // 2024-01-01, fixed so /v1/models is stable

/**
 * The offline moderation models (docs/moderation.md): `lexicon-moderation`, a lexicon-and-rules
 * classifier of text (it cannot see images), and `judge-moderation`, served when a chat model is
 * configured as judge (moderation.judgeModel): the domain hands it that model as `call.judge`.
 */
export class LocalModerationProvider implements Provider {
  readonly id = 'local-moderation'

  constructor(private readonly options: { judge: boolean }) {}

  async listModels(): Promise<ModelCard[]> {
    const card = (id: string): ModelCard => ({
      id,
      ownedBy: 'plinth',
      created: CREATED,
      capabilities: { chat: false, completions: false, embeddings: false, moderation: true },
    })
    return this.options.judge ? [card(LEXICON_MODEL_ID), card(JUDGE_MODEL_ID)] : [card(LEXICON_MODEL_ID)]
  }

  // eslint-disable-next-line require-yield
  async *stream(): AsyncGenerator<StreamPart> {
    // the cards say chat: false, so the chat domain refuses before it gets here
    throw notAChatModel()
  }

  async moderate(call: ModerationCall): Promise<ModerationAnswer> {
    const results: ModerationResult[] = []
    for (const item of call.items) {
      const scores = zeroScores()
      // the texts of one multimodal input are one result: each category takes its highest score
      for (const text of item.texts) {
        const found = call.model === JUDGE_MODEL_ID ? await this.judged(call, text) : (await classifyText(text, call.signal)).scores
        for (const category of MODERATION_CATEGORIES) scores[category] = Math.max(scores[category], found[category])
      }
      results.push(toResult(scores, item))
    }
    return { results }
  }

  private judged(call: ModerationCall, text: string): Promise<Scores> {
    // the domain passes the judge whenever one is configured, and only then is this model served
    if (!call.judge) throw new Error('judge-moderation was called without its judge model')
    return judgeText(call.judge, text)
  }
}

/** Neither classifier looks at images: their categories apply to the text only, or to nothing. */
function toResult(scores: Scores, item: ModerationItem): ModerationResult {
  const applied = item.texts.length > 0 ? (['text'] as const) : ([] as const)
  const categories = {} as ModerationResult['categories']
  const appliedTypes = {} as ModerationResult['category_applied_input_types']
  for (const category of MODERATION_CATEGORIES) {
    categories[category] = scores[category] >= FLAG_THRESHOLD
    appliedTypes[category] = [...applied]
  }
  return {
    flagged: MODERATION_CATEGORIES.some((c) => categories[c]),
    categories,
    category_scores: scores,
    category_applied_input_types: appliedTypes,
  }
}
