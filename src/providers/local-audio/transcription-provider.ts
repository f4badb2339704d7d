import type { GenerateCall, ModelCard, Provider, StreamPart } from '../provider.js'
import type { TranscribeCall, TranscriptEvent } from '../transcription-backend.js'
import { recognize } from './pocketsphinx.js'

/** The offline speech recognizer's model id (OpenAI's whisper-1 and gpt-4o-transcribe alias to it). */
export const POCKETSPHINX_MODEL = 'pocketsphinx-en-us'

const CREATED = 1_704_067_200 // fixed, as the other built-in models', so /v1/models is stable
const ENGLISH = ['en'] as const

/**
 * CMU PocketSphinx (Debian's 5prealpha) with its US English acoustic model, 3-gram language
 * model and dictionary: a real open-vocabulary recognizer, English only. Served whether or not the
 * engine is installed: a request on a host without it gets the 503 that names the packages.
 */
export class LocalTranscriptionProvider implements Provider {
  readonly id = 'local-transcription'

  async listModels(): Promise<ModelCard[]> {
    return [
      {
        id: POCKETSPHINX_MODEL,
        ownedBy: 'plinth',
        created: CREATED,
        // translation: English speech to English text only (docs/audio.md)
        capabilities: { chat: false, completions: false, embeddings: false, transcription: true, translation: true },
      },
    ]
  }

  // eslint-disable-next-line require-yield
  async *stream(_call: GenerateCall): AsyncGenerator<StreamPart> {
    // the domain checks capabilities first; this is never reached through the API
    throw new Error(`${POCKETSPHINX_MODEL} is a speech recognition model`)
  }

  transcribe(call: TranscribeCall): AsyncIterable<TranscriptEvent> {
    return recognize(call.audio.path, call.signal)
  }

  transcriptionLanguages(): readonly string[] {
    return ENGLISH
  }
}
