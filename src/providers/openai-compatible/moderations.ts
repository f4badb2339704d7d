import { ProviderError } from '../../errors.js'
import {
  MODERATION_CATEGORIES,
  type ModerationAnswer,
  type ModerationCall,
  type ModerationResult,
} from '../moderation-backend.js'
import { namesOfCall } from './errors.js'
import type { UpstreamTransport } from './transport.js'

type WireResult = Partial<{
  flagged: boolean
  categories: Record<string, boolean | null>
  category_scores: Record<string, number>
  category_applied_input_types: Record<string, ('text' | 'image')[]>
}>

/**
 * POST /moderations upstream, the client's input passed through whole (images included). The
 * answer keeps the upstream's `model` (OpenAI names the snapshot that served it) and results; a
 * server of the text-moderation era, without the illicit categories or the applied input types,
 * has them filled in (not flagged, score 0; applied to text where it scored the category), so
 * clients always get omni-moderation's full shape.
 */
export async function moderateUpstream(transport: UpstreamTransport, upstreamId: string, call: ModerationCall): Promise<ModerationAnswer> {
  const body = JSON.stringify({ model: call.model, input: call.rawInput })
  const names = namesOfCall(call)
  const exchange = await transport.post('/moderations', body, call.signal, false, undefined, names)
  try {
    const answer = (await exchange.body.json()) as { model?: unknown; results?: unknown } | null
    if (!answer || !Array.isArray(answer.results)) {
      throw new ProviderError(502, `upstream ${upstreamId} answered /moderations without results`)
    }
    return {
      model: typeof answer.model !== 'string' ? undefined : names && answer.model === names.upstream ? names.public : answer.model,
      results: (answer.results as WireResult[]).map(complete),
    }
  } catch (error) {
    throw error instanceof ProviderError ? error : exchange.fail(error)
  } finally {
    exchange.dispose()
  }
}

function complete(result: WireResult): ModerationResult {
  const categories = {} as ModerationResult['categories']
  const scores = {} as ModerationResult['category_scores']
  const applied = {} as ModerationResult['category_applied_input_types']
  for (const category of MODERATION_CATEGORIES) {
    const score = result.category_scores?.[category]
    categories[category] = result.categories?.[category] === true
    scores[category] = typeof score === 'number' ? score : 0
    applied[category] = result.category_applied_input_types?.[category] ?? (typeof score === 'number' ? ['text'] : [])
  }
  return {
    flagged: result.flagged ?? MODERATION_CATEGORIES.some((c) => categories[c]),
    categories,
    category_scores: scores,
    category_applied_input_types: applied,
  }
}
