import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { wordErrors } from '../helpers/speech-audio.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// The round trip, all through Plinth and the official SDK: `tts-1` (flite-speech) speaks
// known sentences, `whisper-1` (pocketsphinx-en-us) writes them back; the word error rate over
// all of them must stay under 0.25.
const SENTENCES = [
  'hello world this is a test of the speech recognition system',
  'the weather is nice today',
  'please call me tomorrow morning',
  'the quick brown fox jumps over the lazy dog',
  'I would like to order a large pizza',
]

vi.setConfig({ testTimeout: 120_000 })

let t: TestApp
let client: OpenAI

beforeAll(async () => {
  t = await createTestApp()
  client = t.client()
})
afterAll(async () => {
  await t.close()
})

describe("Plinth's speech through Plinth's transcription", () => {
  for (const [voice, format] of [['echo', 'mp3'], ['alloy', 'wav'], ['onyx', 'flac']] as const) {
    it(`voice ${voice} as ${format}: word error rate under 0.25`, async () => {
      let errors = 0
      let words = 0
      const heard: string[] = []
      for (const sentence of SENTENCES) {
        const speech = await client.audio.speech.create({ model: 'tts-1', voice, input: sentence, response_format: format })
        const audio = Buffer.from(await speech.arrayBuffer())
        const transcript = await client.audio.transcriptions.create({ model: 'whisper-1', file: await toFile(audio, `speech.${format}`) })
        heard.push(transcript.text)
        const counted = wordErrors(sentence, transcript.text)
        errors += counted.errors
        words += counted.words
      }
      console.log(`round trip ${voice}/${format}: WER ${(errors / words).toFixed(3)} (${errors} of ${words} words)`)
      expect(errors / words, heard.join(' | ')).toBeLessThan(0.25)
    })
  }
})
