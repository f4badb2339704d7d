import type { AppContext } from '../context.js'
import { expiresIn, newSessionId } from '../domain/realtime/ephemeral.js'
import { DEFAULT_TURN_DETECTION, defaultSession, turnDetection, withoutNulls } from '../domain/realtime/session.js'
import { invalidRequest, notARealtimeModel } from '../errors.js'
import { readJson } from '../http/body.js'
import type { RouteDef } from '../http/routes.js'
import type { ProjectPrincipal } from '../principal.js'
import { RealtimeSessionCreateParams, RealtimeTranscriptionSessionCreateParams } from '../schemas/realtime.js'
import { bodyLimit, projectPrincipal } from './shared.js'

/** A key lives a minute unless the request asks for 10 s to 2 h (client_secret.expires_after). */
const expiry = (asked: { expires_after?: { seconds?: number } } | undefined) => expiresIn(asked?.expires_after?.seconds)

/** Throws OpenAI's 404/403 for a model the project cannot use, 400 for one that does not chat. */
export function checkRealtimeModel(ctx: AppContext, principal: ProjectPrincipal, model: string) {
  const { card } = ctx.providers.resolve(model, principal.models)
  if (!card.capabilities.chat) throw notARealtimeModel(model)
}

/** The transcription model a session names: one the project may use that transcribes. */
function checkTranscriptionModel(ctx: AppContext, principal: ProjectPrincipal, settings: { model?: string } | null | undefined) {
  const model = settings?.model
  if (model === undefined) return
  const { card } = ctx.providers.resolve(model, principal.models)
  if (!card.capabilities.transcription) throw invalidRequest(`The model \`${model}\` does not support audio transcriptions.`, 'input_audio_transcription.model', 'invalid_value')
}

/**
 * POST /v1/realtime/sessions and /v1/realtime/transcription_sessions: the session's
 * configuration and an ephemeral key (`ek_...`) that opens the socket (api/realtime-socket.ts)
 * with it. Only the key's hash is kept, in memory (domain/realtime/ephemeral.ts).
 */
export function realtimeRoutes(ctx: AppContext): RouteDef[] {
  return [
    {
      method: 'POST',
      path: '/realtime/sessions',
      operationId: 'create-realtime-session',
      scope: 'project',
      handler: async (c) => {
        const { client_secret, turn_detection, ...params } = await readJson(c, RealtimeSessionCreateParams, bodyLimit(ctx))
        const principal = projectPrincipal(c)
        if (params.model !== undefined) checkRealtimeModel(ctx, principal, params.model)
        checkTranscriptionModel(ctx, principal, params.input_audio_transcription)
        const { model: _model, ...defaults } = defaultSession('')
        // OpenAI's default is server VAD; null turns it off (left out of the answer)
        const detection = turn_detection === undefined ? defaults.turn_detection : turnDetection(turn_detection, 'turn_detection')
        const session = { ...defaults, ...params, turn_detection: detection }
        const secret = await ctx.services.realtime.issue({ principal, session, kind: 'realtime', expiresAt: expiry(client_secret) })
        return c.json({ id: newSessionId(), object: 'realtime.session', ...withoutNulls(session), client_secret: secret })
      },
    },
    {
      method: 'POST',
      path: '/realtime/transcription_sessions',
      operationId: 'create-realtime-transcription-session',
      scope: 'project',
      handler: async (c) => {
        const { client_secret, turn_detection, ...params } = await readJson(c, RealtimeTranscriptionSessionCreateParams, bodyLimit(ctx))
        const principal = projectPrincipal(c)
        checkTranscriptionModel(ctx, principal, params.input_audio_transcription)
        // server VAD commits each turn for transcription; a transcription session makes no responses
        const asked = turn_detection === undefined ? DEFAULT_TURN_DETECTION : turnDetection(turn_detection, 'turn_detection')
        const detection = asked && { ...asked, create_response: false, interrupt_response: false }
        const session = {
          modalities: ['text', 'audio'],
          input_audio_format: 'pcm16',
          input_audio_transcription: null,
          input_audio_noise_reduction: null,
          include: null,
          ...params,
          turn_detection: detection,
        }
        const secret = await ctx.services.realtime.issue({ principal, session, kind: 'transcription', expiresAt: expiry(client_secret) })
        // the transcription session's turn_detection has these four fields (RealtimeTranscriptionSessionCreateResponse)
        const shown = detection && { type: detection.type, threshold: detection.threshold, prefix_padding_ms: detection.prefix_padding_ms, silence_duration_ms: detection.silence_duration_ms }
        return c.json({ id: newSessionId(), object: 'realtime.transcription_session', ...withoutNulls({ ...session, turn_detection: shown }), client_secret: secret })
      },
    },
  ]
}
