import { invalidRequest } from '../../errors.js'
import { AUDIO_EXTENSIONS } from '../../schemas/transcriptions.js'

/** OpenAI's answer to a file whose name has no supported audio extension. */
export function invalidAudioFormat() {
  const list = AUDIO_EXTENSIONS.map((ext) => `'${ext}'`).join(', ')
  return invalidRequest(`Invalid file format. Supported formats: [${list}]`)
}

/** An upload the decoder cannot read: empty, truncated, or not audio at all. */
export function audioUndecodable() {
  return invalidRequest('Audio file might be corrupted or unsupported', 'file', 'invalid_value')
}

export function audioTooShort() {
  return invalidRequest('Audio file is too short. Minimum audio length is 0.1 seconds.', 'file', 'audio_too_short')
}

export function invalidLanguage(language: string) {
  return invalidRequest(
    `Invalid language '${language}'. Language parameter must be specified in ISO-639-1 format.`,
    'language',
    'invalid_language_format',
  )
}

/** A valid language the served model does not recognize (the offline model knows English only). */
export function languageNotServed(model: string, language: string, served: readonly string[]) {
  return invalidRequest(
    `The model \`${model}\` only recognizes speech in ${served.map((code) => `'${code}'`).join(', ')}; it cannot transcribe language '${language}'. Omit \`language\` for English audio, or use a model that knows '${language}' (for example one served by an upstream).`,
    'language',
    'unsupported_language',
  )
}

export function granularitiesNeedVerboseJson() {
  return invalidRequest('`response_format` must be `verbose_json` if `timestamp_granularities[]` is provided', 'timestamp_granularities', 'invalid_value')
}

export function notATranscriptionModel(model: string, task: 'transcribe' | 'translate') {
  const what = task === 'translate' ? 'audio translations' : 'audio transcriptions'
  return invalidRequest(`The model \`${model}\` does not support ${what}.`, 'model', 'invalid_value')
}

export function fileRequired() {
  return invalidRequest("'file' is a required property", 'file')
}

/**
 * Speaker labels (`diarized_json`, `known_speaker_*[]`) asked of a model that cannot tell
 * speakers apart: OpenAI serves them with gpt-4o-transcribe-diarize only.
 */
export function diarizationNotServed(model: string, param: 'response_format' | 'known_speaker_names' | 'known_speaker_references') {
  return invalidRequest(
    `The model \`${model}\` cannot tell speakers apart: '${param}' needs a diarizing model (for example gpt-4o-transcribe-diarize, served by an upstream).`,
    param,
    'unsupported_value',
  )
}
