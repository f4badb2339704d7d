import { APIError } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { childProcesses, decodeAudio } from '../helpers/audio-decode.js'
import { readSpecDocument } from '../helpers/spec-load.js'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// POST /v1/audio/speech on the offline model (flite + ffmpeg from Debian), through the official
// SDK: every format decoded back with ffmpeg, speed, voices, streaming, disconnects, bad input,
// usage and rate limits.

const SENTENCE = 'The quick brown fox jumped over the lazy dog.'
const FORMATS = [
  ['mp3', 'audio/mpeg', 'mp3'],
  ['opus', 'audio/opus', 'opus'],
  ['aac', 'audio/aac', 'aac'],
  ['flac', 'audio/flac', 'flac'],
  ['wav', 'audio/wav', 'pcm_s16le'],
  ['pcm', 'audio/pcm', 'pcm_s16le'],
] as const

/** A long text of distinct sentences (about 3,000 characters: over a minute of speech). */
const LONG = Array.from({ length: 60 }, (_, i) => `This is sentence number ${i + 1} of a long reading.`).join(' ')

let t: TestApp

beforeAll(async () => {
  t = await createTestApp({ pricing: { models: { 'tts-1': { characters: 15 } } } })
})
afterAll(async () => t?.close())

async function speak(body: Record<string, unknown>) {
  const response = await t.client().audio.speech.create({ model: 'tts-1', voice: 'alloy', input: SENTENCE, ...body } as never)
  return { contentType: response.headers.get('content-type'), bytes: new Uint8Array(await response.arrayBuffer()), response }
}

function post(body: unknown, key = PROJECT_KEY) {
  return t.fetch('http://plinth.test/v1/audio/speech', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

async function errorOf(body: unknown) {
  const response = await post(body)
  return { status: response.status, error: ((await response.json()) as { error: unknown }).error }
}

describe('POST /v1/audio/speech (flite-speech)', () => {
  it.each(FORMATS)('%s: a real encoding with the right content type and a plausible duration', async (format, type, codec) => {
    const { contentType, bytes, response } = await speak({ response_format: format })
    expect(contentType).toBe(type)
    // streamed as produced: no length announced
    expect(response.headers.get('content-length')).toBeNull()
    const audio = await decodeAudio(bytes, format)
    expect(audio.codec).toBe(codec)
    if (format !== 'opus') expect(audio.sampleRate).toBe(24_000)
    // flite says this sentence in about 2.9 s
    expect(audio.seconds).toBeGreaterThan(2)
    expect(audio.seconds).toBeLessThan(4.5)
  })

  it('mp3 is the default format', async () => {
    const { contentType, bytes } = await speak({})
    expect(contentType).toBe('audio/mpeg')
    expect((await decodeAudio(bytes, 'mp3')).codec).toBe('mp3')
  })

  it('pcm is raw 24 kHz 16-bit mono: its length is its duration', async () => {
    const { bytes } = await speak({ response_format: 'pcm' })
    const wav = await speak({ response_format: 'wav' })
    // the WAV's samples after its header are the pcm answer's
    expect(Math.abs(wav.bytes.length - bytes.length)).toBeLessThan(100)
    expect(bytes.length % 2).toBe(0)
    expect(bytes.length / 2 / 24_000).toBeCloseTo((await decodeAudio(bytes, 'pcm')).seconds, 1)
  })

  it('speed 2 about halves the duration, speed 0.5 about doubles it', async () => {
    const seconds = async (speed: number) => (await decodeAudio((await speak({ response_format: 'wav', speed })).bytes, 'wav')).seconds
    const normal = await seconds(1)
    const fast = await seconds(2)
    const slow = await seconds(0.5)
    expect(fast / normal).toBeGreaterThan(0.4)
    expect(fast / normal).toBeLessThan(0.62)
    expect(slow / normal).toBeGreaterThan(1.7)
    expect(slow / normal).toBeLessThan(2.3)
    // the extremes are served too
    expect(await seconds(4)).toBeLessThan(normal / 2)
    expect(await seconds(0.25)).toBeGreaterThan(normal * 3)
  })

  it('every voice of the spec (and marin, cedar) speaks; voices differ', async () => {
    const schema = readSpecDocument('v2').components.schemas.VoiceIdsShared as { anyOf: { enum?: string[] }[] }
    const voices = [...schema.anyOf.find((s) => s.enum)!.enum!, 'marin', 'cedar']
    expect(voices).toHaveLength(13)
    const outputs = new Map<string, string>()
    for (const voice of voices) {
      const { bytes } = await speak({ voice, response_format: 'pcm', input: 'Hello there.' })
      expect(bytes.length / 2 / 24_000, voice).toBeGreaterThan(0.4)
      outputs.set(voice, Buffer.from(bytes).toString('base64'))
    }
    expect(new Set(outputs.values()).size).toBe(voices.length)
  })

  it('instructions are accepted (the offline engine cannot act on them)', async () => {
    const plain = await speak({ model: 'gpt-4o-mini-tts', response_format: 'pcm' })
    const told = await speak({ model: 'gpt-4o-mini-tts', response_format: 'pcm', instructions: 'Speak like a pirate.' })
    expect(told.bytes.length).toBeGreaterThan(24_000)
    expect(Buffer.compare(Buffer.from(told.bytes), Buffer.from(plain.bytes))).toBe(0)
  })

  it('speech events: speech.audio.delta chunks, then speech.audio.done with usage', async () => {
    const response = await post({ model: 'gpt-4o-mini-tts', voice: 'nova', input: SENTENCE, response_format: 'wav', stream_format: 'sse' })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const events = (await response.text())
      .split('\n\n')
      .filter(Boolean)
      .map((frame) => JSON.parse(frame.replace(/^data: /, '')))
    const deltas = events.slice(0, -1)
    expect(deltas.length).toBeGreaterThan(0)
    for (const delta of deltas) expect(Object.keys(delta).sort()).toEqual(['audio', 'type'])
    expect(new Set(deltas.map((d) => d.type))).toEqual(new Set(['speech.audio.delta']))
    const done = events[events.length - 1]
    expect(done).toEqual({ type: 'speech.audio.done', usage: { input_tokens: expect.any(Number), output_tokens: 0, total_tokens: done.usage.input_tokens } })
    expect(done.usage.input_tokens).toBeGreaterThan(5)
    const audio = Buffer.concat(deltas.map((d) => Buffer.from(d.audio, 'base64')))
    expect((await decodeAudio(audio, 'wav')).seconds).toBeGreaterThan(2)
  })

  it('tts-1 does not make speech events (as at OpenAI)', async () => {
    const { status, error } = await errorOf({ model: 'tts-1', voice: 'alloy', input: 'Hi.', stream_format: 'sse' })
    expect(status).toBe(400)
    expect(error).toMatchObject({ param: 'stream_format', code: 'unsupported_value' })
  })

  it('streams: the first audio arrives while the rest is still being spoken', async () => {
    const response = await post({ model: 'tts-1', voice: 'echo', input: LONG, response_format: 'pcm' })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-length')).toBeNull()
    const reader = response.body!.getReader()
    const first = await reader.read()
    expect(first.value!.length).toBeGreaterThan(0)
    // the encoder is still at work: the answer was not made whole before it was sent
    expect(childProcesses('ffmpeg').length).toBe(1)
    let total = first.value!.length
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      total += value.length
    }
    // 60 sentences: well over a minute of audio
    expect(total / 2 / 24_000).toBeGreaterThan(60)
    await expect.poll(() => childProcesses('ffmpeg').length).toBe(0)
  })

  it('a client that leaves mid-stream leaves no flite or ffmpeg running', async () => {
    const controller = new AbortController()
    const response = await t.client().audio.speech.create(
      { model: 'tts-1', voice: 'fable', input: LONG, response_format: 'mp3' },
      { signal: controller.signal },
    )
    const reader = response.body!.getReader()
    await reader.read()
    expect(childProcesses('ffmpeg').length).toBe(1)
    controller.abort()
    await reader.cancel().catch(() => undefined)
    await expect.poll(() => childProcesses('ffmpeg').length, { timeout: 5000 }).toBe(0)
    await expect.poll(() => childProcesses('flite').length, { timeout: 5000 }).toBe(0)
  })

  describe('bad input: OpenAI 400s, never a 500', () => {
    const base = { model: 'tts-1', voice: 'alloy', input: 'Hello.' }
    it.each([
      [
        'empty input',
        { input: '' },
        { message: "Invalid 'input': string too short. Expected a string with minimum length 1, but got a string with length 0 instead.", param: 'input', code: 'string_below_min_length' },
      ],
      [
        'input over 4096 characters',
        { input: 'a'.repeat(4097) },
        { message: "Invalid 'input': string too long. Expected a string with maximum length 4096, but got a string with length 4097 instead.", param: 'input', code: 'string_above_max_length' },
      ],
      [
        'unknown voice',
        { voice: 'robot' },
        {
          message: "Invalid value: 'robot'. Supported values are: 'alloy', 'ash', 'ballad', 'coral', 'echo', 'fable', 'onyx', 'nova', 'sage', 'shimmer', 'verse', 'marin', and 'cedar'.",
          param: 'voice',
          code: 'invalid_value',
        },
      ],
      [
        'custom voice object on the offline model',
        { voice: { id: 'voice_1234' } },
        { param: 'voice', code: 'invalid_value' },
      ],
      [
        'speed too low',
        { speed: 0.1 },
        { message: "Invalid 'speed': decimal below minimum value. Expected a value >= 0.25, but got 0.1 instead.", param: 'speed', code: 'decimal_below_min_value' },
      ],
      [
        'speed too high',
        { speed: 5 },
        { message: "Invalid 'speed': integer above maximum value. Expected a value <= 4, but got 5 instead.", param: 'speed', code: 'integer_above_max_value' },
      ],
      [
        'unknown format',
        { response_format: 'ogg' },
        { message: "Invalid value: 'ogg'. Supported values are: 'mp3', 'opus', 'aac', 'flac', 'wav', and 'pcm'.", param: 'response_format', code: 'invalid_value' },
      ],
      ['missing voice', { voice: undefined }, { message: "Missing required parameter: 'voice'.", param: 'voice', code: 'missing_required_parameter' }],
      ['unknown parameter', { pitch: 2 }, { message: "Unknown parameter: 'pitch'.", param: 'pitch', code: 'unknown_parameter' }],
      ['a chat model', { model: 'test-echo' }, { message: 'The model `test-echo` does not support speech.', param: 'model' }],
    ])('%s', async (_, change, expected) => {
      const { status, error } = await errorOf({ ...base, ...change })
      expect(status).toBe(400)
      expect(error).toMatchObject({ type: 'invalid_request_error', ...expected })
    })

    it('an unknown model is a 404', async () => {
      const { status, error } = await errorOf({ ...base, model: 'tts-9' })
      expect(status).toBe(404)
      expect(error).toMatchObject({ code: 'model_not_found' })
    })

    it('the SDK sees an APIError', async () => {
      await expect(t.client().audio.speech.create({ model: 'tts-1', voice: 'alloy', input: '' })).rejects.toBeInstanceOf(APIError)
    })
  })

  it('usage: characters spoken appear in usage/audio_speeches and in costs', async () => {
    const input = 'Counting the characters of this input.'
    await speak({ model: 'tts-1-hd', input, response_format: 'pcm' })
    await t.ctx.services.usage.settled()
    const start = Math.floor(Date.now() / 1000) - 3600
    const get = async (path: string) => {
      const response = await t.fetch(`http://plinth.test/v1/organization/${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
      expect(response.status).toBe(200)
      return (await response.json()) as { data: { results: Record<string, any>[] }[] }
    }
    const usage = await get(`usage/audio_speeches?start_time=${start}&group_by=model&bucket_width=1d`)
    const rows = usage.data.flatMap((bucket) => bucket.results)
    const hd = rows.find((row) => row.model === 'tts-1-hd')
    expect(hd).toMatchObject({ object: 'organization.usage.audio_speeches.result', characters: input.length, num_model_requests: 1 })
    const all = rows.reduce((sum, row) => sum + row.characters, 0)
    const costs = await get(`costs?start_time=${start}&group_by=line_item`)
    const lines = costs.data.flatMap((bucket) => bucket.results)
    const line = lines.find((row) => row.line_item === 'tts-1, characters')
    const tts1 = rows.filter((row) => row.model === 'tts-1').reduce((sum, row) => sum + row.characters, 0)
    expect(all).toBeGreaterThan(input.length)
    expect(line?.amount.value).toBeCloseTo((tts1 * 15) / 1e6, 8)
  })

  it('rate limits: requests per minute apply', async () => {
    const projectId = t.ctx.bootstrap.created!.project.id
    await t.client(ADMIN_KEY, { adminAPIKey: ADMIN_KEY }).admin.organization.projects.rateLimits.updateRateLimit('rl-flite-speech', {
      project_id: projectId,
      max_requests_per_1_minute: 1,
    })
    const body = { model: 'flite-speech', voice: 'alloy', input: 'Hi.', response_format: 'pcm' }
    const first = await post(body)
    expect(first.status).toBe(200)
    await first.arrayBuffer()
    const second = await post(body)
    expect(second.status).toBe(429)
    expect(((await second.json()) as { error: { type: string } }).error.type).toBe('requests')
  })
})
