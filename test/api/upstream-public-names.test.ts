import http from 'node:http'
import type { AddressInfo } from 'node:net'
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// An upstream that refuses every model by the name it was sent, as OpenAI does ("The model `x`
// does not exist"): the client must read its own model's id, never the backend's name behind it.
let upstream: http.Server
let t: TestApp
let client: OpenAI
const sentModels: string[] = []

function modelOf(contentType: string, body: string): string {
  if (contentType.startsWith('application/json')) return String((JSON.parse(body) as { model?: unknown }).model)
  return /name="model"\r\n\r\n([^\r]*)\r\n/.exec(body)?.[1] ?? ''
}

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const model = modelOf(String(req.headers['content-type'] ?? ''), Buffer.concat(chunks).toString('latin1'))
      sentModels.push(model)
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { message: `The model \`${model}\` does not exist or you do not have access to it.`, type: 'invalid_request_error', param: null, code: 'model_not_found' } }))
    })
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  const baseURL = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`
  t = await createTestApp({
    upstreams: [{ id: 'backend', baseURL }],
    models: [
      { id: 'house-voice', provider: 'openai-compatible', upstream: 'backend', upstreamModel: 'secret-tts-9' },
      { id: 'house-ears', provider: 'openai-compatible', upstream: 'backend', upstreamModel: 'secret-whisper-9' },
      { id: 'house-painter', provider: 'openai-compatible', upstream: 'backend', upstreamModel: 'secret-image-9' },
      { id: 'house-guard', provider: 'openai-compatible', upstream: 'backend', upstreamModel: 'secret-moderation-9' },
    ],
  })
  client = t.client()
})
afterAll(async () => {
  await t?.close()
  await new Promise((resolve) => upstream?.close(resolve))
})

/** A tenth of a second of 16 kHz mono silence, as a WAV file. */
function silence(): Buffer {
  const samples = Buffer.alloc(3200)
  const header = Buffer.alloc(44)
  header.write('RIFF', 0)
  header.writeUInt32LE(36 + samples.length, 4)
  header.write('WAVEfmt ', 8)
  header.writeUInt32LE(16, 16)
  header.writeUInt16LE(1, 20)
  header.writeUInt16LE(1, 22)
  header.writeUInt32LE(16000, 24)
  header.writeUInt32LE(32000, 28)
  header.writeUInt16LE(2, 32)
  header.writeUInt16LE(16, 34)
  header.write('data', 36)
  header.writeUInt32LE(samples.length, 40)
  return Buffer.concat([header, samples])
}

async function refusal(call: () => Promise<unknown>) {
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(OpenAI.APIError)
  return error as InstanceType<typeof OpenAI.APIError>
}

describe('upstream errors name the public model id', () => {
  it.each([
    ['speech', 'house-voice', 'secret-tts-9', () => client.audio.speech.create({ model: 'house-voice', voice: 'alloy', input: 'hi' })],
    ['transcriptions', 'house-ears', 'secret-whisper-9', async () => client.audio.transcriptions.create({ model: 'house-ears', file: await toFile(silence(), 'a.wav', { type: 'audio/wav' }) })],
    ['translations', 'house-ears', 'secret-whisper-9', async () => client.audio.translations.create({ model: 'house-ears', file: await toFile(silence(), 'a.wav', { type: 'audio/wav' }) })],
    ['image generations', 'house-painter', 'secret-image-9', () => client.images.generate({ model: 'house-painter', prompt: 'a lighthouse' })],
    ['moderations', 'house-guard', 'secret-moderation-9', () => client.moderations.create({ model: 'house-guard', input: 'hello' })],
  ])('%s', async (_name, publicId, upstreamId, call) => {
    const error = await refusal(call)
    expect(sentModels.at(-1)).toBe(upstreamId)
    expect(error.message).toContain(`\`${publicId}\``)
    expect(error.message).not.toContain(upstreamId)
    expect(error.code).toBe('model_not_found')
  })
})
