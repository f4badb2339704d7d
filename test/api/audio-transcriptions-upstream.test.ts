import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeAudioUpstream, UPSTREAM_TEXT } from '../helpers/fake-audio-upstream.js'
import { durationOf, speak } from '../helpers/speech-audio.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// An upstream's audio models: the upload is forwarded as multipart and the answer passed through.
let t: TestApp
let client: OpenAI
let upstream: Awaited<ReturnType<typeof startFakeAudioUpstream>>
let dir: string
let wav: Buffer

beforeAll(async () => {
  upstream = await startFakeAudioUpstream()
  t = await createTestApp({
    upstreams: [{ id: 'audio', baseURL: upstream.baseURL, apiKeyEnv: 'FAKE_UPSTREAM_KEY' }],
    models: [{ id: 'remote-whisper', provider: 'openai-compatible', upstream: 'audio', upstreamModel: 'whisper-large' }],
  })
  client = t.client()
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-stt-up-'))
  wav = fs.readFileSync(speak('testing the upstream', path.join(dir, 'a.wav')))
})
afterAll(async () => {
  await t?.close()
  await upstream?.close()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

describe('audio transcriptions on an upstream model', () => {
  it('forwards the file and every field, with the upstream model id, and passes JSON back', async () => {
    const result = await client.audio.transcriptions.create({
      file: await toFile(wav, 'speech.wav', { type: 'audio/wav' }),
      model: 'remote-whisper',
      language: 'de',
      prompt: 'a prompt',
      temperature: 0.3,
      response_format: 'verbose_json',
      timestamp_granularities: ['word', 'segment'],
    })
    expect(result.text).toBe(UPSTREAM_TEXT)
    const sent = upstream.last()
    expect(sent.path).toBe('/v1/audio/transcriptions')
    expect(sent.fields).toMatchObject({
      model: ['whisper-large'],
      language: ['de'],
      prompt: ['a prompt'],
      temperature: ['0.3'],
      response_format: ['verbose_json'],
      'timestamp_granularities[]': ['word', 'segment'],
    })
    expect(sent.file?.filename).toBe('speech.wav')
    expect(sent.file?.contentType).toBe('audio/wav')
    expect(sent.file?.bytes.equals(wav)).toBe(true)
  })

  it("forwards the SDK 6 fields a diarizing upstream takes: diarized_json, known speakers, a VAD chunking_strategy", async () => {
    // a real sample is over a plain field's 64 KiB
    const sample = `data:audio/wav;base64,${Buffer.concat([wav, wav, wav, wav]).toString('base64')}`
    expect(sample.length).toBeGreaterThan(64 * 1024)
    const result = await client.audio.transcriptions.create({
      file: await toFile(wav, 'speech.wav'),
      model: 'remote-whisper',
      response_format: 'diarized_json',
      known_speaker_names: ['agent', 'customer'],
      known_speaker_references: [sample, sample],
      chunking_strategy: { type: 'server_vad', threshold: 0.4 },
    })
    expect(result.text).toBe(UPSTREAM_TEXT)
    expect(upstream.last().fields).toMatchObject({
      response_format: ['diarized_json'],
      'known_speaker_names[]': ['agent', 'customer'],
      'known_speaker_references[]': [sample, sample],
      'chunking_strategy[type]': ['server_vad'],
      'chunking_strategy[threshold]': ['0.4'],
    })
  })

  it('passes text formats and SSE streams through', async () => {
    const text = await client.audio.transcriptions.create({ file: await toFile(wav, 'a.wav'), model: 'remote-whisper', response_format: 'text' })
    expect(text).toBe(`${UPSTREAM_TEXT}\n`)
    const srt = (await client.audio.transcriptions.create({ file: await toFile(wav, 'a.wav'), model: 'remote-whisper', response_format: 'srt' })) as unknown as string
    expect(srt.startsWith('1\n00:00:00,000 --> ')).toBe(true)
    const stream = await client.audio.transcriptions.create({ file: await toFile(wav, 'a.wav'), model: 'remote-whisper', stream: true })
    const deltas: string[] = []
    let done = ''
    for await (const event of stream) {
      if (event.type === 'transcript.text.delta') deltas.push(event.delta)
      if (event.type === 'transcript.text.done') done = event.text
    }
    expect(deltas.join('')).toBe(UPSTREAM_TEXT)
    expect(done).toBe(UPSTREAM_TEXT)
  })

  it('forwards translations to /audio/translations', async () => {
    const result = await client.audio.translations.create({ file: await toFile(wav, 'a.mp3'), model: 'remote-whisper', prompt: 'p' })
    expect(result.text).toBe(UPSTREAM_TEXT)
    expect(upstream.last().path).toBe('/v1/audio/translations')
    expect(upstream.last().fields).toMatchObject({ model: ['whisper-large'], prompt: ['p'] })
  })

  it('records the audio seconds of forwarded uploads', async () => {
    await t.ctx.services.usage.settled()
    const rows = await t.ctx.storage.db.selectFrom('usage_records').selectAll().where('model', '=', 'remote-whisper').execute()
    // one record per request of the tests above
    expect(rows.length).toBe(6)
    for (const r of rows) {
      expect(r.operation).toBe('audio_transcriptions')
      expect(Number(r.seconds)).toBe(Math.ceil(durationOf(path.join(dir, 'a.wav'))))
    }
  })
})
