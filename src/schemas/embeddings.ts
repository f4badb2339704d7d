import { z } from 'zod'
import { TokenArray } from './shared.js'


export const EmbeddingCreateParams = z.strictObject({
  input: z.union([z.string(), z.array(z.string()).min(1).max(2048), TokenArray, z.array(TokenArray).min(1).max(2048)]),
  model: z.string(),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().min(1).optional(),
  user: z.string().optional(),
})
export type EmbeddingCreateParams = z.output<typeof EmbeddingCreateParams>
