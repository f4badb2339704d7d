import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'
import { durationOf, encode, joinWithSilence, speak, wordErrors } from '../helpers/speech-audio.js'

// The round trip of the checks: flite speaks known sentences, ffmpeg encodes them into the
// upload formats, Plinth's offline recognizer (pocketsphinx-en-us, behind whisper-1) writes them back.
const SENTENCES = [
  'hello world this is a test of the speech recognition system',
  'the weather is nice today',
  'please call me tomorrow morning',
  'the quick brown fox jumps over the lazy dog',
  'I would like to order a large pizza',
]
const FORMATS = ['wav', 'mp3', 'flac', 'ogg', 'm4a']

// each recognition takes a second or two of a 2-core machine's time
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 })

let t: TestApp
let client: OpenAI
let dir: string
let joined: string
const clips: string[] = []

beforeAll(async () => {
  t = await createTestApp({ rateLimits: { models: { 'gpt-4o-mini-transcribe': { audioMegabytesPerMinute: 1 } } } })
  client = t.client()
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-stt-'))
  SENTENCES.forEach((sentence, i) => {
    const wav = speak(sentence, path.join(dir, `s${i}.wav`))
    clips.push(encode(wav, path.join(dir, `s${i}-enc.${FORMATS[i]}`)))
  })
  joined = joinWithSilence(SENTENCES.slice(0, 3).map((_, i) => path.join(dir, `s${i}.wav`)), 1, path.join(dir, 'joined.wav'))
})
afterAll(async () => {
  await t?.close()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

const upload = (file: string, name = path.basename(file)) => toFile(fs.readFileSync(file), name)

async function raw(form: FormData, route = 'transcriptions') {
  const response = await t.fetch(`${t.url}/v1/audio/${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${PROJECT_KEY}` },
    body: form,
  })
  const text = await response.text()
  let body: any = text
  try {
    body = JSON.parse(text)
  } catch {
    // a text format
  }
  return { status: response.status, body, type: response.headers.get('content-type') ?? '' }
}

function formOf(fields: Record<string, string | string[]>, file?: { bytes: Buffer; name: string }) {
  const form = new FormData()
  if (file) form.append('file', new Blob([new Uint8Array(file.bytes)]), file.name)
  for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) form.append(name, v)
  return form
}

/** The pocketsphinx and ffmpeg processes this test process started and that are still alive. */
function engineChildren(): string {
  return execFileSync('sh', ['-c', `pgrep -P ${process.pid} -l || true`]).toString().split('\n').filter((l) => /ffmpeg|pocketsphinx/.test(l)).join('\n')
}

describe('POST /v1/audio/transcriptions, offline (pocketsphinx-en-us)', () => {
  it('writes the words of flite speech back, in every upload format, with a word error rate under 0.25', async () => {
    let errors = 0
    let words = 0
    for (const [i, clip] of clips.entries()) {
      const result = await client.audio.transcriptions.create({ file: await upload(clip), model: 'whisper-1' })
      const counted = wordErrors(SENTENCES[i], result.text)
      errors += counted.errors
      words += counted.words
      expect(result.usage).toEqual({ type: 'duration', seconds: Math.ceil(durationOf(clip)) })
    }
    const wer = errors / words
    console.log(`round-trip WER over ${SENTENCES.length} sentences (${words} words): ${wer.toFixed(3)}`)
    expect(wer).toBeLessThan(0.25)
  })

  it('decodes webm, mp4, mpeg and mpga uploads too', async () => {
    const wav = path.join(dir, 's0.wav')
    for (const ext of ['webm', 'mp4', 'mpeg', 'mpga']) {
      const file = encode(wav, path.join(dir, `s0-other.${ext}`))
      const result = await client.audio.transcriptions.create({ file: await upload(file), model: 'gpt-4o-transcribe' })
      expect(wordErrors(SENTENCES[0], result.text).errors, ext).toBeLessThanOrEqual(3)
    }
  })

  it('verbose_json: segments per utterance and words, with times in order and within the duration', async () => {
    const result = await client.audio.transcriptions.create({
      file: await upload(joined),
      model: 'whisper-1',
      response_format: 'verbose_json',
      timestamp_granularities: ['word', 'segment'],
    })
    const duration = durationOf(joined)
    expect(result.language).toBe('english')
    expect((result as any).task).toBe('transcribe')
    expect(result.duration).toBeCloseTo(duration, 1)
    const segments = result.segments!
    // three sentences a second apart: the recognizer cuts at the pauses
    expect(segments.length).toBeGreaterThanOrEqual(3)
    let last = 0
    for (const [i, s] of segments.entries()) {
      expect(s.id).toBe(i)
      expect(s.start).toBeGreaterThanOrEqual(last)
      expect(s.end).toBeGreaterThan(s.start)
      expect(s.end).toBeLessThanOrEqual(duration + 0.01)
      expect(s.tokens.length).toBeGreaterThan(0)
      expect(s.avg_logprob).toBeLessThanOrEqual(0)
      expect(s.no_speech_prob).toBeGreaterThanOrEqual(0)
      expect(s.no_speech_prob).toBeLessThanOrEqual(1)
      last = s.end
    }
    // the second sentence starts after the first sentence and the one-second pause
    expect(segments[1].start).toBeGreaterThan(durationOf(path.join(dir, 's0.wav')) + 0.5)
    const words = result.words!
    expect(words.map((w) => w.word).join(' ')).toBe(result.text)
    last = 0
    for (const w of words) {
      expect(w.start).toBeGreaterThanOrEqual(last)
      expect(w.end).toBeGreaterThanOrEqual(w.start)
      last = w.end
    }
    expect(last).toBeLessThanOrEqual(duration + 0.01)
    const reference = SENTENCES.slice(0, 3).join(' ')
    expect(wordErrors(reference, result.text).errors / wordErrors(reference, result.text).words).toBeLessThan(0.25)
  })

  it('verbose_json without granularities has segments and no words', async () => {
    const result = await client.audio.transcriptions.create({ file: await upload(clips[1]), model: 'whisper-1', response_format: 'verbose_json' })
    expect(result.segments?.length).toBeGreaterThan(0)
    expect(result.words).toBeUndefined()
  })

  it('text, srt and vtt are the formats OpenAI writes', async () => {
    const text = await client.audio.transcriptions.create({ file: await upload(joined), model: 'whisper-1', response_format: 'text' })
    expect(typeof text).toBe('string')
    expect(text).toMatch(/^[a-z' ]+\n$/)
    const srt = await client.audio.transcriptions.create({ file: await upload(joined), model: 'whisper-1', response_format: 'srt' })
    const cues = (srt as unknown as string).trim().split('\n\n')
    expect(cues.length).toBeGreaterThanOrEqual(3)
    cues.forEach((cue, i) => {
      const [number, times, words] = cue.split('\n')
      expect(number).toBe(String(i + 1))
      expect(times).toMatch(/^\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}$/)
      expect(words.length).toBeGreaterThan(0)
    })
    const vtt = (await client.audio.transcriptions.create({ file: await upload(joined), model: 'whisper-1', response_format: 'vtt' })) as unknown as string
    expect(vtt.startsWith('WEBVTT\n\n')).toBe(true)
    const vttCues = vtt.slice('WEBVTT\n\n'.length).trim().split('\n\n')
    expect(vttCues.length).toBe(cues.length)
    for (const cue of vttCues) expect(cue.split('\n')[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}$/)
    // the same times in both
    expect(vttCues[1].split('\n')[0]).toBe(cues[1].split('\n')[1].replaceAll(',', '.'))
  })

  it('json with include[]=logprobs: one log probability per word', async () => {
    const result = await client.audio.transcriptions.create({ file: await upload(clips[2]), model: 'gpt-4o-transcribe', include: ['logprobs'] })
    expect(result.logprobs!.map((l) => l.token).join('')).toBe(result.text)
    for (const l of result.logprobs!) expect(l.logprob).toBeLessThanOrEqual(0)
  })

  it('stream: transcript.text.delta per utterance, then transcript.text.done with the whole text', async () => {
    const stream = await client.audio.transcriptions.create({ file: await upload(joined), model: 'gpt-4o-mini-transcribe', stream: true })
    const deltas: string[] = []
    let done: string | undefined
    for await (const event of stream) {
      if (event.type === 'transcript.text.delta') deltas.push(event.delta)
      else if (event.type === 'transcript.text.done') done = event.text
    }
    expect(deltas.length).toBeGreaterThanOrEqual(3)
    expect(done).toBe(deltas.join(''))
  })

  it('stream is ignored for whisper-1, as at OpenAI', async () => {
    const { status, body, type } = await raw(formOf({ model: 'whisper-1', stream: 'true' }, { bytes: fs.readFileSync(clips[1]), name: 'a.mp3' }))
    expect(status).toBe(200)
    expect(type).toContain('application/json')
    expect(body.text.length).toBeGreaterThan(0)
  })

  it('the response names nothing but what the client asked; usage is recorded in seconds', async () => {
    const before = Math.floor(Date.now() / 1000) - 5
    await client.audio.transcriptions.create({ file: await upload(clips[0]), model: 'pocketsphinx-en-us' })
    await t.ctx.services.usage.settled()
    const response = await t.fetch(`${t.url}/v1/organization/usage/audio_transcriptions?start_time=${before}&group_by=model`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    })
    const body = (await response.json()) as any
    const results = body.data.flatMap((b: any) => b.results)
    const mine = results.find((r: any) => r.model === 'pocketsphinx-en-us')
    expect(mine.seconds).toBe(Math.ceil(durationOf(clips[0])))
    expect(mine.num_model_requests).toBe(1)
  })
})

describe('POST /v1/audio/translations, offline', () => {
  it('English speech comes back as English text (json and verbose_json)', async () => {
    const result = await client.audio.translations.create({ file: await upload(clips[3]), model: 'whisper-1' })
    expect(wordErrors(SENTENCES[3], result.text).errors).toBeLessThanOrEqual(3)
    const verbose = (await client.audio.translations.create({ file: await upload(clips[3]), model: 'whisper-1', response_format: 'verbose_json' })) as any
    expect(verbose.language).toBe('english')
    expect((verbose as any).task).toBe('translate')
    expect(verbose.segments!.length).toBeGreaterThan(0)
    const srt = (await client.audio.translations.create({ file: await upload(clips[3]), model: 'whisper-1', response_format: 'srt' })) as unknown as string
    expect(srt.startsWith('1\n00:00:')).toBe(true)
  })

  it('refuses transcription-only fields', async () => {
    const { status, body } = await raw(formOf({ model: 'whisper-1', language: 'en' }, { bytes: fs.readFileSync(clips[1]), name: 'a.mp3' }), 'translations')
    expect(status).toBe(400)
    expect(body.error).toMatchObject({ param: 'language', code: 'unknown_parameter' })
  })
})

describe('bad input', () => {
  const speech = () => ({ bytes: fs.readFileSync(clips[1]), name: 'speech.mp3' })

  it('a file without an audio extension: OpenAI\'s "Invalid file format"', async () => {
    const { status, body } = await raw(formOf({ model: 'whisper-1' }, { bytes: fs.readFileSync(clips[1]), name: 'notes.txt' }))
    expect(status).toBe(400)
    expect(body.error.message).toBe("Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']")
  })

  it('corrupt and empty audio: a 400, never a 500', async () => {
    for (const bytes of [Buffer.from('this is not audio at all '.repeat(100)), Buffer.alloc(0), fs.readFileSync(clips[0]).subarray(0, 60)]) {
      const { status, body } = await raw(formOf({ model: 'whisper-1' }, { bytes, name: 'broken.wav' }))
      expect(status).toBe(400)
      expect(['invalid_value', 'audio_too_short']).toContain(body.error.code)
      expect(body.error.param).toBe('file')
    }
    const silence = path.join(dir, 'blip.wav')
    execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-f', 'lavfi', '-t', '0.05', '-i', 'anullsrc=r=16000:cl=mono', silence])
    const short = await raw(formOf({ model: 'whisper-1' }, { bytes: fs.readFileSync(silence), name: 'blip.wav' }))
    expect(short.body.error).toMatchObject({ message: 'Audio file is too short. Minimum audio length is 0.1 seconds.', code: 'audio_too_short' })
    expect(engineChildren()).toBe('')
  })

  it('an upload over 25 MB: OpenAI\'s 413', async () => {
    const { status, body } = await raw(formOf({ model: 'whisper-1' }, { bytes: Buffer.alloc(30 * 1024 * 1024, 1), name: 'big.wav' }))
    expect(status).toBe(413)
    expect(body.error.message).toMatch(/^Maximum content size limit \(26214400\) exceeded \(\d+ bytes read\)$/)
  })

  it('language: ISO-639-1 checked; another language than English is refused by the English-only model', async () => {
    const bad = await raw(formOf({ model: 'whisper-1', language: 'english' }, speech()))
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatchObject({ param: 'language', code: 'invalid_language_format', message: "Invalid language 'english'. Language parameter must be specified in ISO-639-1 format." })
    const french = await raw(formOf({ model: 'whisper-1', language: 'fr' }, speech()))
    expect(french.status).toBe(400)
    expect(french.body.error.code).toBe('unsupported_language')
    expect(french.body.error.message).toContain('pocketsphinx-en-us')
    const english = await raw(formOf({ model: 'whisper-1', language: 'en', prompt: 'A weather report.', temperature: '0.2' }, speech()))
    expect(english.status).toBe(200)
  })

  it('word timestamps only with verbose_json; bad enum values and fields are 400s', async () => {
    const granularity = await raw(formOf({ model: 'whisper-1', 'timestamp_granularities[]': 'word' }, speech()))
    expect(granularity.status).toBe(400)
    expect(granularity.body.error.message).toBe('`response_format` must be `verbose_json` if `timestamp_granularities[]` is provided')
    const format = await raw(formOf({ model: 'whisper-1', response_format: 'mp3' }, speech()))
    expect(format.status).toBe(400)
    expect(format.body.error.param).toBe('response_format')
    const temperature = await raw(formOf({ model: 'whisper-1', temperature: '3' }, speech()))
    expect(temperature.status).toBe(400)
    const unknown = await raw(formOf({ model: 'whisper-1', voice: 'alloy' }, speech()))
    expect(unknown.body.error).toMatchObject({ code: 'unknown_parameter', param: 'voice' })
    const noFile = await raw(formOf({ model: 'whisper-1' }))
    expect(noFile.body.error.message).toBe("'file' is a required property")
    const notSpeech = await raw(formOf({ model: 'test-echo' }, speech()))
    expect(notSpeech.status).toBe(400)
    expect(notSpeech.body.error.param).toBe('model')
    const missing = await raw(formOf({ model: 'no-such-model' }, speech()))
    expect(missing.status).toBe(404)
  })

  it("chunking_strategy: 'auto' and the SDK's server_vad object (sent as chunking_strategy[type]...) are taken", async () => {
    const vad = await client.audio.transcriptions.create({
      file: await upload(clips[1]),
      model: 'whisper-1',
      chunking_strategy: { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 200 },
    })
    expect(vad.text.length).toBeGreaterThan(0)
    const auto = await client.audio.transcriptions.create({ file: await upload(clips[1]), model: 'whisper-1', chunking_strategy: 'auto' })
    expect(auto.text).toBe(vad.text)
    const badType = await raw(formOf({ model: 'whisper-1', 'chunking_strategy[type]': 'semantic' }, speech()))
    expect(badType.status).toBe(400)
    expect(badType.body.error.param).toBe('chunking_strategy.type')
    const badThreshold = await raw(formOf({ model: 'whisper-1', 'chunking_strategy[type]': 'server_vad', 'chunking_strategy[threshold]': '2' }, speech()))
    expect(badThreshold.status).toBe(400)
    expect(badThreshold.body.error.param).toBe('chunking_strategy.threshold')
    const unknown = await raw(formOf({ model: 'whisper-1', 'chunking_strategy[mode]': 'x' }, speech()))
    expect(unknown.body.error).toMatchObject({ code: 'unknown_parameter', param: 'chunking_strategy[mode]' })
  })

  it('speaker labels (diarized_json, known_speaker_*[]) are refused by the offline model, which cannot tell speakers apart', async () => {
    const diarized = await raw(formOf({ model: 'gpt-4o-mini-transcribe', response_format: 'diarized_json' }, speech()))
    expect(diarized.status).toBe(400)
    expect(diarized.body.error).toMatchObject({ param: 'response_format', code: 'unsupported_value' })
    expect(diarized.body.error.message).toContain('pocketsphinx-en-us')
    const names = await raw(formOf({ model: 'whisper-1', 'known_speaker_names[]': ['a', 'b'] }, speech()))
    expect(names.body.error).toMatchObject({ param: 'known_speaker_names', code: 'unsupported_value' })
    const five = await raw(formOf({ model: 'whisper-1', 'known_speaker_names[]': ['a', 'b', 'c', 'd', 'e'] }, speech()))
    expect(five.body.error).toMatchObject({ param: 'known_speaker_names', code: 'array_above_max_length' })
    // translations have no such format, as in the SDK
    const translation = await raw(formOf({ model: 'whisper-1', response_format: 'diarized_json' }, speech()), 'translations')
    expect(translation.body.error).toMatchObject({ param: 'response_format', code: 'invalid_value' })
  })

  it('uploads count against max_audio_megabytes_per_1_minute', async () => {
    const big = path.join(dir, 'long.wav')
    // 40 s of 16 kHz 16-bit audio: 1.2 MiB, over the 1 MB a minute configured for this model
    execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-f', 'lavfi', '-t', '40', '-i', 'sine=f=440:r=16000', '-ac', '1', big])
    const { status, body } = await raw(formOf({ model: 'gpt-4o-mini-transcribe' }, { bytes: fs.readFileSync(big), name: 'long.wav' }))
    expect(status).toBe(429)
    expect(body.error.message).toContain('audio megabytes per min')
  })

  it('a client that goes away leaves no ffmpeg or pocketsphinx behind', async () => {
    const long = joinWithSilence([0, 1, 2, 3, 4].map((i) => path.join(dir, `s${i}.wav`)), 1, path.join(dir, 'long-speech.wav'))
    const controller = new AbortController()
    const pending = client.audio.transcriptions.create({ file: await upload(long), model: 'whisper-1' }, { signal: controller.signal })
    await expect.poll(engineChildren, { timeout: 5000, interval: 20 }).not.toBe('')
    controller.abort()
    await expect(pending).rejects.toThrow()
    await expect.poll(engineChildren, { timeout: 5000 }).toBe('')
  })
})
