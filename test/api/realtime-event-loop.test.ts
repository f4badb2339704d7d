import { afterAll, beforeAll, expect, it } from 'vitest'
import { EventLoopMonitor } from '../helpers/event-loop-monitor.js'
import { closeRealtimeClients, connect } from '../helpers/realtime.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

/**
 * Server VAD and g711 decoding over long appends never hold the event loop over 50 ms: the audio
 * is decoded, converted and analysed a second at a time, pacing between. (The frame itself is
 * parsed whole: at 15 MiB that parse alone is tens of milliseconds, so the appends here are a few
 * MB, where the parse is short and the audio work, unsliced, would not be.) Runs alone
 * (vitest.config.ts), as the other event-loop tests.
 */
let t: TestApp
beforeAll(async () => {
  t = await createTestApp({}, { transport: 'http' })
})
afterAll(async () => {
  closeRealtimeClients()
  await t?.close()
})

/** `seconds` of silence ending in half a second of a loud 300 Hz tone, 24 kHz pcm16. */
function silenceThenTone(seconds: number): Buffer {
  const samples = new Int16Array(seconds * 24_000)
  for (let i = samples.length - 12_000; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 300 * i) / 24_000))
  return Buffer.from(samples.buffer)
}

it('keeps the event loop free while it analyses and decodes large appends', { timeout: 60_000 }, async () => {
  const c = connect(t)
  await c.next('session.created')
  c.rt.send({ type: 'session.update', session: { modalities: ['text'], turn_detection: { type: 'server_vad', create_response: false } } })
  await c.next('session.updated')
  // the events' text made before the clock starts: the test's own client is in this process
  const append = (audio: Buffer) => JSON.stringify({ type: 'input_audio_buffer.append', audio: audio.toString('base64') })
  // a minute of pcm16 (2.9 MB), and 3 minutes of g711_ulaw (1.4 MB; 8.6 MB of 24 kHz pcm16 decoded)
  const pcm = append(silenceThenTone(60))
  const ulaw = append(Buffer.alloc(180 * 8000, 0xff))
  const monitor = new EventLoopMonitor(50)
  monitor.start()
  monitor.phase('pcm16')
  c.rt.socket.send(pcm)
  const started = await c.next('input_audio_buffer.speech_started', 30_000)
  expect(started.audio_start_ms).toBe(59_500 - 300)
  monitor.phase('g711')
  c.rt.send({ type: 'session.update', session: { input_audio_format: 'g711_ulaw', turn_detection: null as never } })
  c.rt.socket.send(ulaw)
  c.rt.send({ type: 'input_audio_buffer.clear' })
  await c.next('input_audio_buffer.cleared', 30_000)
  monitor.phase('after')
  await new Promise((resolve) => setTimeout(resolve, 100))
  monitor.stop()
  expect(monitor.blocks().filter((stall) => stall.cpuMs > 50)).toEqual([])
  c.rt.close()
})
