import path from 'node:path'
import type { ProjectPrincipal } from '../../principal.js'
import { probeDuration } from '../../providers/local-audio/probe.js'
import type { Provider } from '../../providers/provider.js'
import type { ProviderRegistry } from '../../providers/registry.js'
import {
  AudioUndecodable,
  type AudioUpload,
  type TranscribeCall,
  type TranscriptionTask,
  type TranscriptSegment,
} from '../../providers/transcription-backend.js'
import { AUDIO_EXTENSIONS, type AudioTextParams } from '../../schemas/transcriptions.js'
import type { UsageRecorder } from '../inference/usage.js'
import { ISO_639_1, LANGUAGE_NAMES } from './iso-639-1.js'
import { billedSeconds, formatTranscript, transcriptText, wordLogprobs, type Transcript } from './transcript-formats.js'
import {
  audioTooShort,
  audioUndecodable,
  granularitiesNeedVerboseJson,
  invalidAudioFormat,
  invalidLanguage,
  languageNotServed,
  notATranscriptionModel,
  diarizationNotServed,
} from './transcription-errors.js'

export type { AudioUpload, TranscriptionTask }

export type AudioTextRequest = {
  task: TranscriptionTask
  params: AudioTextParams
  /** The form's text fields as the client sent them, for an upstream to receive unchanged. */
  fields: Record<string, string | string[]>
  audio: AudioUpload
  signal: AbortSignal
}

/** A finished body, transcript events to send as SSE, or an upstream's answer to pass through. */
export type AudioTextAnswer =
  | { kind: 'body'; contentType: string; body: string }
  | { kind: 'events'; events: AsyncIterable<Record<string, unknown>> }
  | { kind: 'relay'; contentType: string; body: AsyncIterable<Uint8Array> }

/** OpenAI's shortest audio (errors: audio_too_short). */
const MIN_SECONDS = 0.1

/**
 * POST /v1/audio/transcriptions and /translations. Local engines give segments with word times
 * and the domain writes every format from them; upstream models get the upload forwarded and
 * their answer passed through. Usage is the audio's duration in seconds.
 */
export class TranscriptionsService {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly usage: UsageRecorder,
  ) {}

  async create(principal: ProjectPrincipal, request: AudioTextRequest): Promise<AudioTextAnswer> {
    const { params, task } = request
    const { card, provider, upstreamModel } = this.registry.resolve(params.model, principal.models)
    const able = task === 'translate' ? card.capabilities.translation : card.capabilities.transcription
    if (!able || (!provider.transcribe && !provider.relayTranscription)) throw notATranscriptionModel(params.model, task)
    const record = (duration: number | undefined) => {
      void this.usage.record(principal, {
        operation: 'audio_transcriptions',
        model: params.model,
        inputTokens: 0,
        outputTokens: 0,
        seconds: duration === undefined ? 0 : billedSeconds(duration),
      })
    }

    if (provider.relayTranscription) {
      const answer = await provider.relayTranscription({ model: upstreamModel, publicModel: params.model, task, audio: request.audio, fields: request.fields, signal: request.signal })
      // billed by the audio's own length: an upstream's text answer says nothing of it
      record(await probeDuration(request.audio.path, request.signal))
      return { kind: 'relay', ...answer }
    }

    const format = params.response_format
    if (format === 'diarized_json') throw diarizationNotServed(card.id, 'response_format')
    if (params.known_speaker_names?.length) throw diarizationNotServed(card.id, 'known_speaker_names')
    if (params.known_speaker_references?.length) throw diarizationNotServed(card.id, 'known_speaker_references')
    if (params.timestamp_granularities?.length && format !== 'verbose_json') throw granularitiesNeedVerboseJson()
    if (params.language !== undefined) {
      const language = params.language.toLowerCase()
      if (!ISO_639_1.has(language)) throw invalidLanguage(params.language)
      const served = provider.transcriptionLanguages?.(upstreamModel)
      if (served && !served.includes(language)) throw languageNotServed(card.id, params.language, served)
    }
    const extension = path.extname(request.audio.filename).slice(1).toLowerCase()
    if (!(AUDIO_EXTENSIONS as readonly string[]).includes(extension)) throw invalidAudioFormat()

    const call: TranscribeCall = {
      model: upstreamModel,
      task,
      audio: request.audio,
      language: params.language,
      prompt: params.prompt,
      temperature: params.temperature,
      signal: request.signal,
    }
    const language = LANGUAGE_NAMES[provider.transcriptionLanguages?.(upstreamModel)?.[0] ?? 'en'] ?? 'english'
    // whisper-1 ignores `stream` (the spec's note); the gpt-4o-transcribe family streams
    const streamed = params.stream === true && task === 'transcribe' && params.model !== 'whisper-1'
    if (streamed) return { kind: 'events', events: this.events(provider, call, params, record) }

    const segments: TranscriptSegment[] = []
    let duration = 0
    for await (const event of recognized(provider, call)) {
      if (event.type === 'segment') segments.push(event.segment)
      else duration = event.duration
    }
    if (duration < MIN_SECONDS) throw audioTooShort()
    record(duration)
    const transcript: Transcript = { task, language, duration, segments }
    const formatted = formatTranscript(transcript, {
      format,
      granularities: params.timestamp_granularities,
      logprobs: params.include.includes('logprobs'),
    })
    return { kind: 'body', ...formatted }
  }

  /** transcript.text.delta per utterance as it is recognized, then transcript.text.done. */
  private async *events(provider: Provider, call: TranscribeCall, params: AudioTextParams, record: (duration: number) => void) {
    const logprobs = params.include.includes('logprobs')
    const segments: TranscriptSegment[] = []
    for await (const event of recognized(provider, call)) {
      if (event.type === 'end') {
        // checked before the first event when nothing was heard, so a short file is still a 400
        if (event.duration < MIN_SECONDS) throw audioTooShort()
        record(event.duration)
        break
      }
      const first = segments.length === 0
      segments.push(event.segment)
      const delta: Record<string, unknown> = { type: 'transcript.text.delta', delta: (first ? '' : ' ') + event.segment.text }
      if (logprobs) delta.logprobs = wordLogprobs(event.segment.words, !first)
      yield delta
    }
    const done: Record<string, unknown> = { type: 'transcript.text.done', text: transcriptText(segments) }
    if (logprobs) done.logprobs = segments.flatMap((s, i) => wordLogprobs(s.words, i > 0))
    yield done
  }
}

/** The provider's events, with an upload the decoder cannot read turned into OpenAI's 400. */
async function* recognized(provider: Provider, call: TranscribeCall) {
  try {
    yield* provider.transcribe!(call)
  } catch (error) {
    if (error instanceof AudioUndecodable) throw audioUndecodable()
    throw error
  }
}
