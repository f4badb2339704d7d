/**
 * The methods a provider implements to serve POST /v1/moderations: classify text and images.
 * Optional: a provider without them has no such models.
 */

/** Every category of omni-moderation-latest, in the spec's order (CreateModerationResponse). */
export const MODERATION_CATEGORIES = [
  'harassment',
  'harassment/threatening',
  'hate',
  'hate/threatening',
  'illicit',
  'illicit/violent',
  'self-harm',
  'self-harm/intent',
  'self-harm/instructions',
  'sexual',
  'sexual/minors',
  'violence',
  'violence/graphic',
] as const

export type ModerationCategory = (typeof MODERATION_CATEGORIES)[number]

/** The categories OpenAI's omni model also scores on images (the spec's applied-type enums). */
export const IMAGE_CATEGORIES: readonly ModerationCategory[] = [
  'self-harm',
  'self-harm/intent',
  'self-harm/instructions',
  'sexual',
  'violence',
  'violence/graphic',
]

/** One result's input: a string of the request, or the parts of a multimodal request. */
export type ModerationItem = { texts: string[]; imageUrls: string[] }

/** One result, as the wire has it. */
export type ModerationResult = {
  flagged: boolean
  categories: Record<ModerationCategory, boolean>
  category_scores: Record<ModerationCategory, number>
  category_applied_input_types: Record<ModerationCategory, ('text' | 'image')[]>
}

/**
 * A chat model asked for a JSON answer: what a judge model needs from the domain, which owns
 * chat (permissions, usage). Resolves to the answer's text.
 */
export type JudgeChat = (request: { system: string; user: string; schemaName: string; schema: Record<string, unknown> }) => Promise<string>

export type ModerationCall = {
  /** The backend's model id, already resolved by the registry. */
  model: string
  /** The model's id as the client named it, for upstream errors that would name the backend's. */
  publicModel?: string
  items: ModerationItem[]
  /** The validated wire `input`, for pass-through backends. */
  rawInput: unknown
  signal: AbortSignal
  /** Set when a judge chat model is configured (moderation.judgeModel). */
  judge?: JudgeChat
}

export type ModerationAnswer = {
  results: ModerationResult[]
  /** The model the backend says served the request (an upstream's own name); else the public id. */
  model?: string
}

export interface ModerationBackend {
  moderate?(call: ModerationCall): Promise<ModerationAnswer>
}
