import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import type { RelayedAnswer, RelayTranscriptionCall } from '../transcription-backend.js'
import { namesOfCall } from './errors.js'
import type { UpstreamTransport } from './transport.js'

/**
 * Forwards an audio upload to the upstream's /audio/transcriptions or /audio/translations as a
 * multipart form (the client's fields, the upstream's model id, the file streamed from disk with
 * its length declared), and passes its answer on as it arrives: JSON, text, subtitles or SSE.
 */
export async function relayTranscription(transport: UpstreamTransport, call: RelayTranscriptionCall): Promise<RelayedAnswer> {
  const boundary = `plinth-${randomBytes(12).toString('hex')}`
  const head: Buffer[] = [part(boundary, 'model', call.model)]
  for (const [name, value] of Object.entries(call.fields)) {
    if (Array.isArray(value)) for (const item of value) head.push(part(boundary, `${name}[]`, item))
    else head.push(part(boundary, name, value))
  }
  const filename = call.audio.filename.replace(/["\r\n]/g, '_') || 'audio'
  head.push(
    Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${filename}"\r\ncontent-type: ${call.audio.contentType || 'application/octet-stream'}\r\n\r\n`,
    ),
  )
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  const length = head.reduce((n, b) => n + b.length, 0) + call.audio.bytes + tail.length
  async function* body(): AsyncGenerator<Uint8Array> {
    yield* head
    yield* fs.createReadStream(call.audio.path) as AsyncIterable<Buffer>
    yield tail
  }
  const streamed = call.fields.stream === 'true'
  const path = call.task === 'translate' ? '/audio/translations' : '/audio/transcriptions'
  const exchange = await transport.post(path, body(), call.signal, streamed, {
    'content-type': `multipart/form-data; boundary=${boundary}`,
    'content-length': String(length),
    accept: streamed ? 'text/event-stream' : '*/*',
  }, namesOfCall(call))
  async function* answer(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of exchange.body) yield chunk
    } catch (error) {
      throw exchange.fail(error)
    } finally {
      exchange.dispose()
    }
  }
  return { contentType: exchange.contentType || 'application/json', body: answer() }
}

function part(boundary: string, name: string, value: string): Buffer {
  return Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
}
