import { z } from 'zod'

/**
 * The Realtime API's session configuration (RealtimeSessionCreateRequest, SDK 6's beta
 * SessionCreateParams): POST /v1/realtime/sessions and the socket's `session.update`. `model` is
 * any string here: Plinth serves its own chat models, checked against the registry.
 */
const AudioFormat = z.enum(['pcm16', 'g711_ulaw', 'g711_alaw'])
const Modalities = z.array(z.enum(['text', 'audio']))
const NoiseReduction = z.strictObject({ type: z.enum(['near_field', 'far_field']).optional() }).nullable()
const TurnDetection = z
  .strictObject({
    type: z.enum(['server_vad', 'semantic_vad']).optional(),
    eagerness: z.enum(['low', 'medium', 'high', 'auto']).optional(),
    threshold: z.number().min(0).max(1).optional(),
    prefix_padding_ms: z.int().min(0).optional(),
    silence_duration_ms: z.int().min(0).optional(),
    create_response: z.boolean().optional(),
    interrupt_response: z.boolean().optional(),
  })
  .nullable()
const Transcription = z
  .strictObject({ model: z.string().optional(), language: z.string().optional(), prompt: z.string().optional() })
  .nullable()
/** How long the ephemeral key lives: OpenAI's 10 s to 2 h, one minute unless asked. */
const ClientSecret = z.strictObject({
  expires_after: z.strictObject({ anchor: z.literal('created_at'), seconds: z.int().min(10).max(7200).optional() }).optional(),
})
export const RealtimeTool = z.strictObject({
  type: z.literal('function').optional(),
  name: z.string().optional(),
  description: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
})
export type RealtimeTool = z.output<typeof RealtimeTool>
const Tracing = z.union([
  z.literal('auto'),
  z.strictObject({ group_id: z.string().optional(), metadata: z.unknown().optional(), workflow_name: z.string().optional() }),
])
const MaxOutput = z.union([z.int().min(1).max(4096), z.literal('inf')])

const sessionFields = {
  model: z.string().optional(),
  modalities: Modalities.optional(),
  instructions: z.string().optional(),
  voice: z.string().optional(),
  input_audio_format: AudioFormat.optional(),
  output_audio_format: AudioFormat.optional(),
  input_audio_transcription: Transcription.optional(),
  input_audio_noise_reduction: NoiseReduction.optional(),
  turn_detection: TurnDetection.optional(),
  tools: z.array(RealtimeTool).optional(),
  tool_choice: z.string().optional(),
  temperature: z.number().min(0.6).max(1.2).optional(),
  max_response_output_tokens: MaxOutput.optional(),
  speed: z.number().min(0.25).max(1.5).optional(),
  tracing: Tracing.nullable().optional(),
}

export const RealtimeSessionCreateParams = z.strictObject({ ...sessionFields, client_secret: ClientSecret.optional() })
export type RealtimeSessionCreateParams = z.output<typeof RealtimeSessionCreateParams>

/** `session.update`'s session: the same fields (OpenAI takes the REST body's shape). */
export const RealtimeSessionUpdate = z.strictObject({ ...sessionFields, client_secret: ClientSecret.optional() })
export type RealtimeSessionUpdate = z.output<typeof RealtimeSessionUpdate>

export const RealtimeTranscriptionSessionCreateParams = z.strictObject({
  modalities: Modalities.optional(),
  input_audio_format: AudioFormat.optional(),
  input_audio_transcription: z
    .strictObject({ model: z.string().optional(), language: z.string().optional(), prompt: z.string().optional() })
    .optional(),
  input_audio_noise_reduction: NoiseReduction.optional(),
  turn_detection: TurnDetection.optional(),
  include: z.array(z.string()).optional(),
  client_secret: ClientSecret.optional(),
})
export type RealtimeTranscriptionSessionCreateParams = z.output<typeof RealtimeTranscriptionSessionCreateParams>
