import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { alawEncode, ulawDecode, ulawEncode } from '../../src/domain/realtime/g711.js'
import { startFakeAudioUpstream, UPSTREAM_TEXT } from '../helpers/fake-audio-upstream.js'
import { closeRealtimeClients, connect as connectTo, type Event } from '../helpers/realtime.js'
import { createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// The Realtime API's voice features through the official SDK's beta client: server VAD (an
// energy detector) on synthetic audio, interruption, g711 audio both ways, conversation.item.truncate
// and the session's end at expires_at. Each server event is checked against its spec schema.

let t: TestApp
let short: TestApp
/** A transcription upstream that keeps the committed audio it is sent (remote-whisper) */
let upstream: Awaited<ReturnType<typeof startFakeAudioUpstream>>

beforeAll(async () => {
  upstream = await startFakeAudioUpstream()
  t = await createTestApp(
    {
      upstreams: [{ id: 'audio', baseURL: upstream.baseURL, apiKeyEnv: 'FAKE_UPSTREAM_KEY' }],
      models: [{ id: 'remote-whisper', provider: 'openai-compatible', upstream: 'audio', upstreamModel: 'whisper-large' }],
    },
    { transport: 'http' },
  )
  short = await createTestApp({ realtime: { sessionSeconds: 2 } }, { transport: 'http' })
})
afterAll(async () => {
  closeRealtimeClients()
  await Promise.all([t?.close(), short?.close()])
  await upstream?.close()
})

const connect = (model = 'test-echo') => connectTo(t, PROJECT_KEY, model)

/** `ms` of 24 kHz pcm16: a 300 Hz tone at `dbfs` (RMS), or silence. */
function pcm(ms: number, dbfs?: number): Buffer {
  const amplitude = dbfs === undefined ? 0 : 32768 * Math.SQRT2 * 10 ** (dbfs / 20)
  const samples = Int16Array.from({ length: ms * 24 }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * 300 * i) / 24_000)))
  return Buffer.from(samples.buffer)
}

/** Appends the audio in 100 ms events (a client streaming from a microphone). */
function stream(c: ReturnType<typeof connect>, audio: Buffer, bytesPer100ms = 4800) {
  for (let at = 0; at < audio.length; at += bytesPer100ms) c.rt.send({ type: 'input_audio_buffer.append', audio: audio.subarray(at, at + bytesPer100ms).toString('base64') })
}

/** 24 kHz pcm16 → 8 kHz G.711 by taking every third sample (the test's own, simpler path). */
function g711(audio: Buffer, encode: (sample: number) => number): Buffer {
  const out = Buffer.alloc(Math.floor(audio.length / 6))
  for (let i = 0; i < out.length; i++) out[i] = encode(audio.readInt16LE(i * 6))
  return out
}

async function speech(text: string): Promise<Buffer> {
  const answer = await t.client().audio.speech.create({ model: 'tts-1', voice: 'alloy', input: text, response_format: 'pcm' })
  return Buffer.from(await answer.arrayBuffer())
}

const position = (events: Event[], type: string) => events.findIndex((e) => e.type === type)

describe('server VAD', () => {
  it("is on by default, as OpenAI's session shows it", async () => {
    const c = connect()
    const created = await c.next('session.created')
    expect(created.session.turn_detection).toEqual({ type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 200, create_response: true, interrupt_response: true })
    c.rt.close()
  })

  it('hears a tone burst between silences: speech_started, speech_stopped, committed, then a response', { timeout: 20_000 }, async () => {
    const c = connect()
    await c.next('session.created')
    c.rt.send({ type: 'session.update', session: { modalities: ['text'], turn_detection: { type: 'server_vad', silence_duration_ms: 300 } } })
    expect((await c.next('session.updated')).session.turn_detection).toEqual({ type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 300, create_response: true, interrupt_response: true })
    stream(c, Buffer.concat([pcm(500), pcm(600, -20), pcm(800)]))
    const started = await c.next('input_audio_buffer.speech_started')
    // the tone begins at 500 ms; the turn's audio starts prefix_padding_ms (300) before it
    expect(started.audio_start_ms).toBe(200)
    const stopped = await c.next('input_audio_buffer.speech_stopped')
    // the tone ends at 1100 ms, and 300 ms of silence end the turn
    expect(stopped.audio_end_ms).toBe(1400)
    expect(stopped.item_id).toBe(started.item_id)
    const committed = await c.next('input_audio_buffer.committed')
    expect(committed.item_id).toBe(started.item_id)
    const item = (await c.next('conversation.item.created')).item
    expect(item).toMatchObject({ id: started.item_id, role: 'user', content: [{ type: 'input_audio' }] })
    const done = await c.next('response.done', 15_000)
    expect(done.response.status).toBe('completed')
    const order = ['input_audio_buffer.speech_started', 'input_audio_buffer.speech_stopped', 'input_audio_buffer.committed', 'conversation.item.created', 'response.created', 'response.done'].map((type) => position(c.events, type))
    expect(order).toEqual([...order].sort((a, b) => a - b))
    // one turn: nothing else was heard in the silence after it
    expect(c.events.filter((e) => e.type === 'input_audio_buffer.speech_started')).toHaveLength(1)
    c.rt.close()
  })

  it('commits without a response when create_response is false; ignores audio under the threshold; still takes a manual commit', { timeout: 20_000 }, async () => {
    const c = connect()
    await c.next('session.created')
    c.rt.send({ type: 'session.update', session: { modalities: ['text'], turn_detection: { type: 'server_vad', threshold: 0.8, silence_duration_ms: 200, create_response: false } } })
    await c.next('session.updated')
    // -30 dBFS is under threshold 0.8's level (-22 dBFS): no speech
    stream(c, Buffer.concat([pcm(300), pcm(500, -30), pcm(300)]))
    c.rt.send({ type: 'input_audio_buffer.commit' })
    const manual = await c.next('input_audio_buffer.committed')
    expect(c.events.some((e) => e.type === 'input_audio_buffer.speech_started')).toBe(false)
    stream(c, Buffer.concat([pcm(300, -10), pcm(400)]))
    const stopped = await c.next('input_audio_buffer.speech_stopped')
    expect((await c.next('input_audio_buffer.committed')).item_id).toBe(stopped.item_id)
    expect(stopped.item_id).not.toBe(manual.item_id)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(c.events.some((e) => e.type === 'response.created')).toBe(false)
    c.rt.close()
  })

  it('interrupts a response in flight when the user speaks (interrupt_response)', { timeout: 20_000 }, async () => {
    const c = connect('test-scripted')
    await c.next('session.created')
    c.rt.send({ type: 'session.update', session: { modalities: ['text'], turn_detection: { type: 'server_vad', create_response: false } } })
    await c.next('session.updated')
    c.rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'go slowly' }] } })
    await c.next('conversation.item.created')
    c.rt.send({ type: 'response.create' })
    await c.next('response.text.delta')
    stream(c, pcm(300, -15))
    await c.next('input_audio_buffer.speech_started')
    const done = await c.next('response.done')
    expect(done.response.status).toBe('cancelled')
    expect(done.response.status_details).toEqual({ type: 'cancelled', reason: 'turn_detected' })
    c.rt.close()
  })

  it('leaves the response alone when interrupt_response is false', { timeout: 20_000 }, async () => {
    const c = connect('test-scripted')
    await c.next('session.created')
    c.rt.send({ type: 'session.update', session: { modalities: ['text'], turn_detection: { type: 'server_vad', create_response: false, interrupt_response: false } } })
    c.rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'go slowly' }] } })
    c.rt.send({ type: 'response.create' })
    await c.next('response.text.delta')
    stream(c, pcm(300, -15))
    await c.next('input_audio_buffer.speech_started')
    expect((await c.next('response.done', 10_000)).response.status).toBe('completed')
    c.rt.close()
  })
})

describe('g711 audio', () => {
  /** 8 kHz G.711 of a 440 Hz tone; what reaches the transcription engine is 24 kHz pcm16 of it. */
  const narrowTone = (encode: (sample: number) => number) => Buffer.from(Array.from({ length: 8000 }, (_, i) => encode(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)))))

  /** The committed audio the transcription upstream got: 24 kHz pcm16 samples of a WAV file. */
  function received(): Int16Array {
    const wav = upstream.last().file!.bytes
    expect(wav.readUInt32LE(24)).toBe(24_000)
    const data = wav.subarray(44)
    return Int16Array.from({ length: data.length / 2 }, (_, i) => data.readInt16LE(i * 2))
  }

  /** How close the samples are to a 24 kHz 440 Hz tone 31 samples late (the filter's delay), in dB. */
  function toneSnr(samples: Int16Array): number {
    let signal = 0
    let noise = 0
    for (let i = 300; i < samples.length - 300; i++) {
      const want = 8000 * Math.sin((2 * Math.PI * 440 * (i - 31)) / 24_000)
      signal += want ** 2
      noise += (want - samples[i]) ** 2
    }
    return 10 * Math.log10(signal / noise)
  }

  it('takes g711_ulaw input (to 24 kHz pcm16 for the engines) and speaks g711_ulaw output, 8 kHz', { timeout: 30_000 }, async () => {
    const c = connect()
    await c.next('session.created')
    c.rt.send({ type: 'session.update', session: { modalities: ['text', 'audio'], input_audio_format: 'g711_ulaw', output_audio_format: 'g711_ulaw', input_audio_transcription: { model: 'remote-whisper' }, turn_detection: null as never } })
    expect((await c.next('session.updated')).session).toMatchObject({ input_audio_format: 'g711_ulaw', output_audio_format: 'g711_ulaw' })
    stream(c, narrowTone(ulawEncode), 800)
    c.rt.send({ type: 'input_audio_buffer.commit' })
    await c.next('input_audio_buffer.committed')
    expect((await c.next('conversation.item.input_audio_transcription.completed', 10_000)).transcript).toBe(UPSTREAM_TEXT)
    const samples = received()
    // a second of 8 kHz audio is a second at 24 kHz, the same tone
    expect(samples.length).toBe(24_000)
    expect(toneSnr(samples)).toBeGreaterThan(25)

    c.rt.send({ type: 'response.create' })
    const done = await c.next('response.done', 20_000)
    expect(done.response).toMatchObject({ status: 'completed', output_audio_format: 'g711_ulaw' })
    const audio = Buffer.concat(c.events.filter((e) => e.type === 'response.audio.delta').map((e) => Buffer.from(e.delta, 'base64')))
    // one byte a sample at 8 kHz: a third of the 24 kHz samples, a sixth of the pcm16 bytes
    const reference = await speech(done.response.output[0].content[0].transcript)
    expect(Math.abs(audio.length - reference.length / 6)).toBeLessThan(10)
    // speech, not silence: decoded, it is about as loud as the pcm16 speech
    const rms = (samples: number[]) => Math.sqrt(samples.reduce((a, v) => a + v * v, 0) / samples.length)
    const decoded = [...audio].map(ulawDecode)
    const pcmSamples = Array.from({ length: reference.length / 2 }, (_, i) => reference.readInt16LE(i * 2))
    expect(rms(decoded) / rms(pcmSamples)).toBeGreaterThan(0.6)
    expect(rms(decoded) / rms(pcmSamples)).toBeLessThan(1.2)
    c.rt.close()
  })

  it('takes g711_alaw input, and a response may ask for g711_alaw output', { timeout: 30_000 }, async () => {
    const c = connect()
    await c.next('session.created')
    c.rt.send({ type: 'session.update', session: { input_audio_format: 'g711_alaw', input_audio_transcription: { model: 'remote-whisper' }, turn_detection: null as never } })
    await c.next('session.updated')
    stream(c, narrowTone(alawEncode), 800)
    c.rt.send({ type: 'input_audio_buffer.commit' })
    await c.next('conversation.item.input_audio_transcription.completed', 10_000)
    expect(toneSnr(received())).toBeGreaterThan(25)
    c.rt.send({ type: 'response.create', response: { output_audio_format: 'g711_alaw' } })
    const done = await c.next('response.done', 20_000)
    expect(done.response.output_audio_format).toBe('g711_alaw')
    const audio = Buffer.concat(c.events.filter((e) => e.type === 'response.audio.delta').map((e) => Buffer.from(e.delta, 'base64')))
    expect(Math.abs(audio.length - (await speech(done.response.output[0].content[0].transcript)).length / 6)).toBeLessThan(10)
    c.rt.close()
  })

  it('runs server VAD on g711 input', { timeout: 20_000 }, async () => {
    const c = connect()
    await c.next('session.created')
    c.rt.send({ type: 'session.update', session: { modalities: ['text'], input_audio_format: 'g711_ulaw', turn_detection: { type: 'server_vad', create_response: false } } })
    await c.next('session.updated')
    stream(c, g711(Buffer.concat([pcm(500), pcm(500, -20), pcm(800)]), ulawEncode), 800)
    const started = await c.next('input_audio_buffer.speech_started')
    // the resampling filter's delay (1.3 ms) aside, as for pcm16
    expect(started.audio_start_ms).toBeGreaterThanOrEqual(200)
    expect(started.audio_start_ms).toBeLessThanOrEqual(202)
    expect((await c.next('input_audio_buffer.committed')).item_id).toBe(started.item_id)
    c.rt.close()
  })
})

describe('conversation.item.truncate', () => {
  it("cuts an assistant's audio and removes its transcript; OpenAI's errors otherwise", { timeout: 30_000 }, async () => {
    const c = connect()
    await c.next('session.created')
    c.rt.send({ type: 'session.update', session: { modalities: ['text', 'audio'], turn_detection: null as never } })
    c.rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'good morning to you all' }] } })
    const user = (await c.next('conversation.item.created')).item
    c.rt.send({ type: 'response.create' })
    const done = await c.next('response.done', 20_000)
    const assistant = done.response.output[0]
    const bytes = c.events.filter((e) => e.type === 'response.audio.delta').reduce((n, e) => n + Buffer.from(e.delta, 'base64').length, 0)
    const length = Math.floor(bytes / 48)
    expect(length).toBeGreaterThan(500)

    const error = async (event: Record<string, unknown>) => {
      c.rt.send({ type: 'conversation.item.truncate', content_index: 0, audio_end_ms: 100, ...event } as never)
      return (await c.next('error')).error
    }
    expect(await error({ item_id: 'item_nope', event_id: 'evt_1' })).toMatchObject({ type: 'invalid_request_error', code: 'item_not_found', message: "Item with item_id 'item_nope' not found.", event_id: 'evt_1' })
    expect(await error({ item_id: user.id })).toMatchObject({ type: 'invalid_request_error', code: null, message: 'Only model output audio messages can be truncated' })
    expect(await error({ item_id: assistant.id, audio_end_ms: length + 1 })).toMatchObject({ code: null, message: `Audio content of ${length}ms is already shorter than ${length + 1}ms` })
    expect(await error({ item_id: assistant.id, content_index: 1 })).toMatchObject({ code: 'integer_above_max_value', param: 'content_index' })
    expect(await error({ item_id: assistant.id, audio_end_ms: -1 })).toMatchObject({ code: 'integer_below_min_value', param: 'audio_end_ms' })
    expect(await error({ item_id: assistant.id, audio_end_ms: undefined })).toMatchObject({ code: 'missing_required_parameter', param: 'audio_end_ms' })

    const cut = Math.floor(length / 2)
    c.rt.send({ type: 'conversation.item.truncate', item_id: assistant.id, content_index: 0, audio_end_ms: cut })
    expect(await c.next('conversation.item.truncated')).toMatchObject({ item_id: assistant.id, content_index: 0, audio_end_ms: cut })
    c.rt.send({ type: 'conversation.item.retrieve', item_id: assistant.id })
    expect((await c.next('conversation.item.retrieved')).item.content).toEqual([{ type: 'audio', transcript: '' }])
    // the audio now ends at the cut
    expect(await error({ item_id: assistant.id, audio_end_ms: cut + 1 })).toMatchObject({ message: `Audio content of ${cut}ms is already shorter than ${cut + 1}ms` })
    c.rt.close()
  })
})

describe('session expiry', () => {
  it('sends session_expired at expires_at, then closes the socket', { timeout: 10_000 }, async () => {
    const c = connectTo(short)
    const created = await c.next('session.created')
    const closed = new Promise<{ code: number; reason: string }>((resolve) => c.rt.socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })))
    expect(created.session.expires_at - Date.now() / 1000).toBeLessThanOrEqual(2)
    const expired = await c.next('error', 5000)
    expect(expired.error).toEqual({ type: 'invalid_request_error', code: 'session_expired', message: 'Your session hit the maximum duration of 2 seconds.', param: null, event_id: null })
    expect(await closed).toEqual({ code: 1001, reason: 'Your session hit the maximum duration of 2 seconds.' })
  })
})
