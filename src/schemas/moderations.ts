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

const StringInputs = z.array(z.string())
const PartInputs = z.array(ModerationPart)

/**
 * A string, strings, or multimodal parts. The array's kind is told by its first item, so a bad
 * item is reported against the kind the client meant ("Invalid value: 'audio'" for a part of an
 * unknown type) rather than against whichever alternative zod tried first.
 */
const Input = z.union([z.string(), z.array(z.unknown()).min(1).max(MAX_MODERATION_INPUTS)]).transform((input, ctx): string | string[] | ModerationPart[] => {
  if (typeof input === 'string') return input
  const parsed = (typeof input[0] === 'string' ? StringInputs : PartInputs).safeParse(input, { reportInput: true } as object)
  if (parsed.success) return parsed.data
  for (const issue of parsed.error.issues) ctx.issues.push({ ...issue, input: (issue as { input?: unknown }).input } as never)
  return z.NEVER
})

export const ModerationCreateParams = z.strictObject({
  input: Input,
  model: z.string().min(1).default('omni-moderation-latest'),
})
export type ModerationCreateParams = z.output<typeof ModerationCreateParams>
