import { z } from 'zod'

/** Every `size` the spec lists; which of them a model takes is checked per model (domain/images). */
export const IMAGE_SIZES = ['auto', '1024x1024', '1536x1024', '1024x1536', '256x256', '512x512', '1792x1024', '1024x1792'] as const
const EDIT_SIZES = ['256x256', '512x512', '1024x1024', '1536x1024', '1024x1536', 'auto'] as const
const VARIATION_SIZES = ['256x256', '512x512', '1024x1024'] as const

const n = z.number().int().min(1).max(10)
const responseFormat = z.enum(['url', 'b64_json'])

/** POST /v1/images/generations (CreateImageRequest). Nullable fields take null as unset. */
export const ImageGenerateParams = z.strictObject({
  prompt: z.string(),
  model: z.string().nullish(),
  n: n.nullish(),
  quality: z.enum(['standard', 'hd', 'low', 'medium', 'high', 'auto']).nullish(),
  response_format: responseFormat.nullish(),
  output_format: z.enum(['png', 'jpeg', 'webp']).nullish(),
  output_compression: z.number().int().min(0).max(100).nullish(),
  size: z.enum(IMAGE_SIZES).nullish(),
  moderation: z.enum(['low', 'auto']).nullish(),
  background: z.enum(['transparent', 'opaque', 'auto']).nullish(),
  style: z.enum(['vivid', 'natural']).nullish(),
  user: z.string().optional(),
})
export type ImageGenerateParams = z.output<typeof ImageGenerateParams>

/** A form's integer field arrives as text: `n=2` is the number 2, anything else stays text (and fails). */
const formInt = (schema: z.ZodNumber) =>
  z.preprocess((v) => (typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v), schema)

/** The text fields of POST /v1/images/edits (CreateImageEditRequest); `image` and `mask` are files. */
export const ImageEditFields = z.strictObject({
  prompt: z.string(),
  model: z.string().optional(),
  n: formInt(n).optional(),
  size: z.enum(EDIT_SIZES).optional(),
  response_format: responseFormat.optional(),
  user: z.string().optional(),
  quality: z.enum(['standard', 'low', 'medium', 'high', 'auto']).optional(),
  // newer than the spec, as the SDK sends them: gpt-image-1's output options
  background: z.enum(['transparent', 'opaque', 'auto']).optional(),
  output_format: z.enum(['png', 'jpeg', 'webp']).optional(),
  output_compression: formInt(z.number().int().min(0).max(100)).optional(),
  input_fidelity: z.enum(['high', 'low']).optional(),
})
export type ImageEditFields = z.output<typeof ImageEditFields>

/** The text fields of POST /v1/images/variations (CreateImageVariationRequest). */
export const ImageVariationFields = z.strictObject({
  model: z.string().optional(),
  n: formInt(n).optional(),
  response_format: responseFormat.optional(),
  size: z.enum(VARIATION_SIZES).optional(),
  user: z.string().optional(),
})
export type ImageVariationFields = z.output<typeof ImageVariationFields>

/** GET /v1/images/content/{image_id}: the signed URL's query (a Plinth extension). */
export const ImageContentQuery = z.object({
  expires: z.string().optional(),
  sig: z.string().optional(),
})
