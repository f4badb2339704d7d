import { z } from 'zod'

/** Most strings (or multimodal parts) one request may hold: Plinth's bound, as for embeddings. */
export const MAX_MODERATION_INPUTS = 2048

const TextPart = z.strictObject({ type: z.literal('text'), text: z.string() })
const ImagePart = z.strictObject({
  type: z.literal('image_url'),
  // an https URL or a data URL with the image inline, as the spec describes
  image_url: z.strictObject({ url: z.url({ protocol: /^(?:https?|data)$/ }) }),
})
export const ModerationPart = z.discriminatedUnion('type', [TextPart, ImagePart])
export type ModerationPart = z.output<typeof ModerationPart>

export const ModerationCreateParams = z.strictObject({
  input: z.union([
    z.string(),
    z.array(z.string()).min(1).max(MAX_MODERATION_INPUTS),
    z.array(ModerationPart).min(1).max(MAX_MODERATION_INPUTS),
  ]),
  model: z.string().min(1).default('omni-moderation-latest'),
})
export type ModerationCreateParams = z.output<typeof ModerationCreateParams>
