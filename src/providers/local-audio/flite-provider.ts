import { invalidRequest } from '../../errors.js'
import type { ModelCard, Provider, StreamPart } from '../provider.js'
import { SPEECH_CONTENT_TYPES, type SpeechAudio, type SpeechCall } from '../speech-backend.js'
import { ffmpegPipe, requireFfmpeg } from './ffmpeg.js'
import { FLITE_SAMPLE_RATE, FLITE_VOICES, fliteSamples, requireFlite, SPEECH_VOICES } from './flite.js'
import { speechPieces } from './sentences.js'
import { encoderArgs } from './speech-encoding.js'

export const FLITE_SPEECH_MODEL = 'flite-speech'

const CREATED = 1_704_067_200 // 2024-01-01, fixed so /v1/models is stable

/**
 * The offline text-to-speech model: CMU flite (Debian's `flite`) speaks the input sentence by
 * sentence, and one ffmpeg encoder turns the samples into the asked format as they come, so the
 * first audio leaves before the rest of a long input is spoken. Both engines are optional: the
 * model is always listed, and a host without them answers 503 engine_unavailable.
 */
export class FliteSpeechProvider implements Provider {
  readonly id = 'flite'

  async listModels(): Promise<ModelCard[]> {
    return [
      {
        id: FLITE_SPEECH_MODEL,
        ownedBy: 'plinth',
        created: CREATED,
        capabilities: { chat: false, completions: false, embeddings: false, speech: true },
      },
    ]
  }

  // eslint-disable-next-line require-yield
  async *stream(): AsyncGenerator<StreamPart> {
    throw invalidRequest(`The model \`${FLITE_SPEECH_MODEL}\` only serves /v1/audio/speech.`, 'model')
  }

  async speech(call: SpeechCall): Promise<SpeechAudio> {
    const voice = call.voice
    if (typeof voice !== 'string' || !Object.hasOwn(FLITE_VOICES, voice)) throw unknownVoice(voice)
    const flite = requireFlite()
    requireFfmpeg()
    // stops flite between pieces once the encoder is gone (client left, or the reader stopped)
    const stop = new AbortController()
    const signal = AbortSignal.any([call.signal, stop.signal])
    const { input, output } = encoderArgs(call.format, FLITE_SAMPLE_RATE)
    const samples = synthesize(flite, speechPieces(call.input), voice, call.speed, signal)
    const encoded = ffmpegPipe(input, output, { input: samples, signal })
    async function* chunks(): AsyncGenerator<Uint8Array> {
      try {
        yield* encoded
      } finally {
        stop.abort(new Error('speech stopped'))
      }
    }
    return { contentType: SPEECH_CONTENT_TYPES[call.format], chunks: chunks() }
  }
}

/**
 * The pieces' samples in order, the next piece already being spoken while the encoder takes the
 * current one: flite and ffmpeg each get a core.
 */
async function* synthesize(flite: string, pieces: string[], voice: string, speed: number, signal: AbortSignal): AsyncGenerator<Buffer> {
  let next = pieces.length ? fliteSamples(flite, pieces[0], voice, speed, signal) : undefined
  for (let i = 0; i < pieces.length; i++) {
    const current = next!
    next = i + 1 < pieces.length ? fliteSamples(flite, pieces[i + 1], voice, speed, signal) : undefined
    // the next piece's failure is reported when its turn comes, not as an unhandled rejection
    next?.catch(() => undefined)
    yield await current
  }
}

/** C11, with OpenAI's voices as the supported values. */
export function unknownVoice(voice: unknown) {
  const quoted = SPEECH_VOICES.map((name) => `'${name}'`)
  const shown = typeof voice === 'string' ? voice : JSON.stringify(voice)
  return invalidRequest(
    `Invalid value: '${shown}'. Supported values are: ${quoted.slice(0, -1).join(', ')}, and ${quoted[quoted.length - 1]}.`,
    'voice',
    'invalid_value',
  )
}
