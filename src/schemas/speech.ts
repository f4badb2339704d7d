import { z } from 'zod'

/**
 * POST /v1/audio/speech (CreateSpeechRequest). `voice` is any string in the spec (its enum is a
 * suggestion, and upstreams may have more), or the SDK's custom voice reference; the model checks
 * it. `stream_format` is not in the spec file but is in OpenAI's API and SDK (speech events).
 */
export const SpeechCreateParams = z.strictObject({
  model: z.string(),
  input: z.string().min(1).max(4096),
  voice: z.union([z.string(), z.strictObject({ id: z.string() })]),
  instructions: z.string().max(4096).optional(),
  response_format: z.enum(['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm']).optional(),
  speed: z.number().min(0.25).max(4).optional(),
  stream_format: z.enum(['sse', 'audio']).optional(),
})
export type SpeechCreateParams = z.output<typeof SpeechCreateParams>
