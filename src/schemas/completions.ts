import { z } from 'zod'
import { TokenArray } from './shared.js'
import { LogitBias, Stop, StreamOptions } from './chat.js'


export const CompletionCreateParams = z.strictObject({
  model: z.string(),
  prompt: z.union([z.string(), z.array(z.string()), TokenArray, z.array(TokenArray).min(1)]).nullable(),
  best_of: z.number().int().min(0).max(20).nullish(),
  echo: z.boolean().nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  logit_bias: LogitBias.nullish(),
  logprobs: z.number().int().min(0).max(5).nullish(),
  max_tokens: z.number().int().min(0).nullish(),
  n: z.number().int().min(1).max(128).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  seed: z.number().int().nullish(),
  stop: Stop,
  stream: z.boolean().nullish(),
  stream_options: StreamOptions,
  suffix: z.string().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  user: z.string().optional(),
})
export type CompletionCreateParams = z.output<typeof CompletionCreateParams>
