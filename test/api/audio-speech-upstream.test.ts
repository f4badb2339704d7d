import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FAKE_AUDIO_CHUNKS, startFakeSpeechUpstream, type FakeSpeechUpstream } from '../helpers/fake-speech-upstream.js'
import { createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// POST /v1/audio/speech on an upstream model: the body is passed through and the upstream's
// bytes (binary audio or speech events) stream back as they come.

let fake: FakeSpeechUpstream
let t: TestApp

beforeAll(async () => {
  fake = await startFakeSpeechUpstream()
  t = await createTestApp({
    upstreams: [{ id: 'voice', baseURL: fake.baseURL }],
    models: [{ id: 'tts-upstream', provider: 'openai-compatible', upstream: 'voice', upstreamModel: 'gpt-4o-mini-tts' }],
  })
})
afterAll(async () => {
  await t?.close()
  await fake?.close()
})

function post(body: unknown) {
  return t.fetch('http://plinth.test/v1/audio/speech', {
    method: 'POST',
    headers: { authorization: `Bearer ${PROJECT_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

describe('POST /v1/audio/speech through an upstream', () => {
  it('passes the request through and the binary body back, byte for byte', async () => {
    const request = { model: 'tts-upstream', voice: 'coral', input: 'Hello upstream.', instructions: 'Cheerful.', speed: 1.5, response_format: 'mp3' as const }
    const response = await t.client().audio.speech.create(request)
    expect(response.headers.get('content-type')).toBe('audio/mpeg')
    expect(Buffer.from(await response.arrayBuffer())).toEqual(Buffer.concat(FAKE_AUDIO_CHUNKS))
    expect(fake.bodies.at(-1)).toEqual({ ...request, model: 'gpt-4o-mini-tts' })
  })

  it('voices the offline model does not know go to the upstream (custom voices too)', async () => {
    const response = await post({ model: 'tts-upstream', voice: { id: 'voice_1234' }, input: 'Hi.', response_format: 'opus' })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('audio/opus')
    await response.arrayBuffer()
    expect(fake.bodies.at(-1)).toMatchObject({ voice: { id: 'voice_1234' } })
  })

  it('streams: the first chunk reaches the client while the upstream is still holding the rest', async () => {
    fake.hold()
    const response = await post({ model: 'tts-upstream', voice: 'ash', input: 'Streaming.' })
    const reader = response.body!.getReader()
    const first = await reader.read()
    expect(Buffer.from(first.value!)).toEqual(FAKE_AUDIO_CHUNKS[0])
    fake.release()
    const rest: Uint8Array[] = []
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      rest.push(value)
    }
    expect(Buffer.concat(rest)).toEqual(Buffer.concat(FAKE_AUDIO_CHUNKS.slice(1)))
  })

  it('a client that leaves mid-stream closes the upstream request', async () => {
    fake.hold()
    const response = await post({ model: 'tts-upstream', voice: 'ash', input: 'Leaving.' })
    const reader = response.body!.getReader()
    await reader.read()
    await reader.cancel()
    await fake.aborted()
  })

  it('speech events are passed through', async () => {
    const response = await post({ model: 'tts-upstream', voice: 'sage', input: 'Events.', stream_format: 'sse' })
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const events = (await response.text())
      .split('\n\n')
      .filter(Boolean)
      .map((frame) => JSON.parse(frame.replace(/^data: /, '')))
    expect(events.map((e) => e.type)).toEqual(['speech.audio.delta', 'speech.audio.delta', 'speech.audio.delta', 'speech.audio.done'])
    expect(Buffer.from(events[1].audio, 'base64')).toEqual(FAKE_AUDIO_CHUNKS[1])
  })

  it("the upstream's 400 reaches the client as OpenAI's error", async () => {
    const error = { message: 'Invalid voice.', type: 'invalid_request_error', param: 'voice', code: 'invalid_value' }
    fake.fail(400, error)
    const response = await post({ model: 'tts-upstream', voice: 'zzz', input: 'Hi.' })
    expect(response.status).toBe(400)
    expect(((await response.json()) as { error: unknown }).error).toMatchObject({ param: 'voice', code: 'invalid_value' })
  })
})
