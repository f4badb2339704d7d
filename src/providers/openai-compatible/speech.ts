import { SPEECH_CONTENT_TYPES, type SpeechAudio, type SpeechCall } from '../speech-backend.js'
import { namesOfCall } from './errors.js'
import type { UpstreamTransport } from './transport.js'

/**
 * POST /v1/audio/speech forwarded: the client's validated body with the upstream's model name,
 * and the upstream's bytes (audio, or speech events with `stream_format: sse`) handed on as each
 * read completes. The content type is OpenAI's for the format, whatever a looser server labels.
 */
export async function upstreamSpeech(transport: UpstreamTransport, call: SpeechCall): Promise<SpeechAudio> {
  const events = call.streamFormat === 'sse'
  const exchange = await transport.post('/audio/speech', JSON.stringify({ ...call.raw, model: call.model }), call.signal, events, undefined, namesOfCall(call))
  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of exchange.body) yield chunk
    } catch (error) {
      throw exchange.fail(error)
    } finally {
      exchange.dispose()
    }
  }
  return { contentType: events ? 'text/event-stream; charset=utf-8' : SPEECH_CONTENT_TYPES[call.format], chunks: chunks() }
}
