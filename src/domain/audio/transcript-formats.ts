import { deflateSync } from 'node:zlib'
import type { TranscriptionTask, TranscriptSegment, TranscriptWord } from '../../providers/transcription-backend.js'
import { encodeTokens } from '../../providers/tokenizer.js'
import type { AudioResponseFormat } from '../../schemas/transcriptions.js'

/** A whole transcript as the recognizer gave it: the domain writes every response format from it. */
export type Transcript = {
  task: TranscriptionTask
  /** The language's name in English (verbose_json says `english`, as Whisper does). */
  language: string
  duration: number
  segments: TranscriptSegment[]
}

/** The duration usage OpenAI reports for whisper-1 (and bills by): whole seconds, rounded up. */
export function billedSeconds(duration: number): number {
  return Math.ceil(duration - 1e-9)
}

export function transcriptText(segments: TranscriptSegment[]): string {
  return segments.map((s) => s.text).join(' ')
}

/** The recognizer's word posteriors as log probabilities, one per word (floored: log 0 is -inf). */
export function wordLogprobs(words: TranscriptWord[], leadingSpace: boolean) {
  return words.map((w, i) => {
    const token = (i > 0 || leadingSpace ? ' ' : '') + w.word
    return { token, logprob: logOf(w.confidence), bytes: [...Buffer.from(token, 'utf8')] }
  })
}

const logOf = (p: number) => round(Math.log(Math.max(p, 1e-4)), 6)
const round = (n: number, digits = 2) => Number(n.toFixed(digits))

export type FormatOptions = {
  format: AudioResponseFormat
  granularities?: ('word' | 'segment')[]
  logprobs: boolean
}

/** The body and content type of a finished transcript in the requested format. */
export function formatTranscript(t: Transcript, options: FormatOptions): { contentType: string; body: string } {
  const text = transcriptText(t.segments)
  const usage = { type: 'duration', seconds: billedSeconds(t.duration) }
  switch (options.format) {
    case 'text':
      return plain(`${text}\n`)
    case 'srt':
      return plain(srt(t.segments))
    case 'vtt':
      return plain(vtt(t.segments))
    case 'verbose_json': {
      const granularities = options.granularities ?? ['segment']
      const body: Record<string, unknown> = { task: t.task, language: t.language, duration: round(t.duration, 3), text }
      if (granularities.includes('word')) body.words = t.segments.flatMap((s) => s.words.map((w) => ({ word: w.word, start: round(w.start), end: round(w.end) })))
      if (granularities.includes('segment')) body.segments = t.segments.map(verboseSegment)
      body.usage = usage
      return json(body)
    }
    default: {
      const body: Record<string, unknown> = { text }
      if (options.logprobs) body.logprobs = t.segments.flatMap((s, i) => wordLogprobs(s.words, i > 0))
      body.usage = usage
      return json(body)
    }
  }
}

/**
 * TranscriptionSegment from an utterance. Whisper's fields, measured honestly on this
 * recognizer's output: `tokens` are the text's o200k token ids, `avg_logprob` the mean log
 * posterior of its words, `compression_ratio` the text's zlib ratio (Whisper's own definition),
 * `no_speech_prob` the share of the utterance's time with no word, `seek` the start in 10 ms
 * frames, and `temperature` 0: the search is deterministic.
 */
function verboseSegment(segment: TranscriptSegment, id: number) {
  const text = ` ${segment.text}`
  const bytes = Buffer.from(segment.text, 'utf8')
  const mean = segment.words.reduce((sum, w) => sum + Math.log(Math.max(w.confidence, 1e-4)), 0) / Math.max(segment.words.length, 1)
  return {
    id,
    seek: Math.floor(segment.start * 100),
    start: round(segment.start),
    end: round(segment.end),
    text,
    tokens: encodeTokens(text),
    temperature: 0,
    avg_logprob: round(mean, 6),
    compression_ratio: bytes.length ? round(bytes.length / deflateSync(bytes).length, 6) : 0,
    no_speech_prob: round(segment.noSpeech, 6),
  }
}

/** SubRip: numbered cues, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, a blank line after each. */
export function srt(segments: TranscriptSegment[]): string {
  return segments.map((s, i) => `${i + 1}\n${clock(s.start, ',')} --> ${clock(s.end, ',')}\n${s.text}\n\n`).join('')
}

/** WebVTT: the `WEBVTT` header, then cues with `HH:MM:SS.mmm` times. */
export function vtt(segments: TranscriptSegment[]): string {
  return `WEBVTT\n\n${segments.map((s) => `${clock(s.start, '.')} --> ${clock(s.end, '.')}\n${s.text}\n\n`).join('')}`
}

function clock(seconds: number, separator: ',' | '.'): string {
  const ms = Math.round(seconds * 1000)
  const pad = (n: number, width = 2) => String(n).padStart(width, '0')
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}${separator}${pad(ms % 1000, 3)}`
}

const plain = (body: string) => ({ contentType: 'text/plain; charset=utf-8', body })
const json = (body: unknown) => ({ contentType: 'application/json', body: JSON.stringify(body) })
