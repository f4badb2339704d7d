import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// A host without flite or ffmpeg: Plinth starts, lists flite-speech, and a speech request gets a
// 503 engine_unavailable naming the package to install.

const missing = vi.hoisted(() => new Set<string>())
vi.mock('../../src/providers/local-audio/process-pipe.js', async (original) => {
  const real = await original<typeof import('../../src/providers/local-audio/process-pipe.js')>()
  return { ...real, findExecutable: (name: string) => (missing.has(name) ? null : real.findExecutable(name)) }
})

let t: TestApp

beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => t?.close())

async function speak() {
  const response = await t.fetch('http://plinth.test/v1/audio/speech', {
    method: 'POST',
    headers: { authorization: `Bearer ${PROJECT_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tts-1', voice: 'alloy', input: 'Hello.' }),
  })
  return { status: response.status, headers: response.headers, body: (await response.json()) as { error: Record<string, unknown> } }
}

describe('speech engines missing', () => {
  it.each([
    ['flite', /^flite \(speech synthesis\) is not available on this server\. Install it on the host \(apt-get install -y --no-install-recommends flite\)/],
    ['ffmpeg', /^ffmpeg \(audio encoding and decoding\) is not available on this server\. Install it on the host \(apt-get install -y --no-install-recommends ffmpeg\)/],
  ])('without %s: 503 engine_unavailable naming the package', async (name, message) => {
    missing.clear()
    missing.add(name)
    const { status, headers, body } = await speak()
    expect(status).toBe(503)
    expect(headers.get('x-should-retry')).toBe('false')
    expect(body.error).toMatchObject({ type: 'server_error', code: 'engine_unavailable', message: expect.stringMatching(message) })
  })

  it('the model is still listed, and speaks once the engines are back', async () => {
    missing.clear()
    const models = await t.client().models.list()
    expect(models.data.map((m) => m.id)).toContain('flite-speech')
    const response = await t.client().audio.speech.create({ model: 'flite-speech', voice: 'alloy', input: 'Back again.', response_format: 'wav' })
    expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(10_000)
  })
})
