import { z } from 'zod'
import { TokenArray } from './shared.js'


/** Most inputs of one request, as at OpenAI. */
export const MAX_EMBEDDING_INPUTS = 2048

/**
 * A string, strings, a token array or token arrays. The count is checked after the union, to
 * answer in OpenAI's words (`Invalid 'input': array length must be 2048 or less.`, quoted in
 * several projects in 2026) rather than the generic "array too long".
 */
const Input = z
  .union([z.string(), z.array(z.string()).min(1), TokenArray, z.array(TokenArray).min(1)])
  .check((ctx) => {
    const input = ctx.value
    if (Array.isArray(input) && typeof input[0] !== 'number' && input.length > MAX_EMBEDDING_INPUTS) {
      ctx.issues.push({ code: 'custom', message: `array length must be ${MAX_EMBEDDING_INPUTS} or less.`, input })
    }
  })

export const EmbeddingCreateParams = z.strictObject({
  input: Input,
  model: z.string(),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().min(1).optional(),
  user: z.string().optional(),
})
export type EmbeddingCreateParams = z.output<typeof EmbeddingCreateParams>
