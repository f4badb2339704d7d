// npm run bench:audio-speech: POST /v1/audio/speech on the offline model (flite + ffmpeg) through
// a real Plinth over HTTP with the official SDK, next to the same engines called directly in the
// same run: real-time factor (seconds of work per second of audio) and time to the first audio
// byte, as ratios (direct / Plinth; 1.0 means Plinth adds nothing, target >= 0.9). Writes its
// section of docs/benchmarks.md. BENCH_SPEECH_RUNS changes the runs per text (default 5).
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'
import { setLogLevel } from '../src/logger.js'
import { FliteSpeechProvider } from '../src/providers/local-audio/flite-provider.js'
import { findExecutable, runProcess } from '../src/providers/local-audio/process-pipe.js'
import type { SpeechFormat } from '../src/providers/speech-backend.js'
import { writeBenchmarkSection } from './docs-section.js'

const root = path.resolve(import.meta.dirname, '..')
const KEY = 'sk-proj-bench-speech-0000000000000000000'
const SECTION = '## Audio speech (`npm run bench:audio-speech`)'
const RUNS = Number(process.env.BENCH_SPEECH_RUNS ?? 5)
const FORMAT: SpeechFormat = 'mp3'

const SENTENCE = 'The quick brown fox jumped over the lazy dog.'
const PARAGRAPH =
  'Plinth serves the OpenAI API on your own machine. Apps written for OpenAI change only their base URL. ' +
  'The offline speech model is CMU flite, a small synthesizer that sounds robotic but is easy to understand. ' +
  'Each sentence is spoken as soon as the one before it is done, and one encoder turns the samples into the format asked for. ' +
  'The first audio leaves long before the whole text is spoken, so playback can start at once. ' +
  'Nothing here needs a network or a graphics card.'
const LONG = Array.from({ length: 8 }, () => PARAGRAPH).join(' ')
const TEXTS = [
  ['one sentence', SENTENCE],
  ['paragraph', PARAGRAPH],
  ['long text', LONG],
] as const

type Sample = { firstByte: number; total: number }
type Row = { text: string; chars: number; audioSeconds: number; plinth: Sample; direct: Sample; whole: Sample }

setLogLevel('silent')

function startPlinth(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/cli/run-cli.ts', 'serve', '--port', '0', '--data-dir', dataDir], {
    cwd: root,
    env: { ...process.env, PLINTH_BOOTSTRAP_PROJECT_KEY: KEY, PLINTH_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const match = /Plinth ready on (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(out)
      if (match) resolve({ child, url: match[1] })
    })
    child.on('exit', (code) => reject(new Error(`plinth exited with ${code}: ${out}`)))
  })
}

/** Times an audio stream: until its first byte, and until its end; returns its size too. */
async function timeStream(start: () => Promise<AsyncIterable<Uint8Array>>): Promise<Sample & { bytes: number }> {
  const t0 = performance.now()
  let firstByte = 0
  let bytes = 0
  for await (const chunk of await start()) {
    if (!firstByte) firstByte = performance.now() - t0
    bytes += chunk.length
  }
  return { firstByte, total: performance.now() - t0, bytes }
}

/** Through Plinth: the SDK's request, the body read as it arrives. */
function viaPlinth(client: OpenAI, input: string, format: SpeechFormat) {
  return timeStream(async () => {
    const response = await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input, response_format: format })
    return response.body as unknown as AsyncIterable<Uint8Array>
  })
}

/** The same engines, the same sentence-by-sentence pipeline, called in this process: no HTTP. */
function direct(provider: FliteSpeechProvider, input: string, format: SpeechFormat) {
  return timeStream(async () => {
    const audio = await provider.speech({ model: 'flite-speech', input, voice: 'alloy', speed: 1, format, raw: {}, signal: new AbortController().signal })
    return audio.chunks
  })
}

/** flite on the whole text, then ffmpeg on the whole file: what a script would do, no streaming. */
async function whole(dir: string, input: string): Promise<Sample> {
  const wav = path.join(dir, 'whole.wav')
  const t0 = performance.now()
  await runProcess(findExecutable('flite')!, ['-voice', 'slt', '-t', input, '-o', wav])
  const out = await runProcess(findExecutable('ffmpeg')!, ['-v', 'error', '-i', wav, '-ar', '24000', '-ac', '1', '-c:a', 'libmp3lame', '-b:a', '64k', '-f', 'mp3', 'pipe:1'])
  const total = performance.now() - t0
  if (!out.length) throw new Error('ffmpeg wrote nothing')
  return { firstByte: total, total }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const medianSample = (samples: Sample[]): Sample => ({ firstByte: median(samples.map((s) => s.firstByte)), total: median(samples.map((s) => s.total)) })

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-bench-speech-'))
  const server = await startPlinth(path.join(dir, 'data'))
  const client = new OpenAI({ apiKey: KEY, baseURL: `${server.url}/v1`, maxRetries: 0 })
  const provider = new FliteSpeechProvider()
  const rows: Row[] = []
  try {
    for (const [text, input] of TEXTS) {
      // seconds of audio: the pcm answer is 24 kHz 16-bit mono
      const pcm = await viaPlinth(client, input, 'pcm')
      const audioSeconds = pcm.bytes / 2 / 24_000
      // warm up both paths (page cache, first spawn), then interleave the runs
      await viaPlinth(client, input, FORMAT)
      await direct(provider, input, FORMAT)
      const plinth: Sample[] = []
      const engine: Sample[] = []
      const naive: Sample[] = []
      for (let i = 0; i < RUNS; i++) {
        plinth.push(await viaPlinth(client, input, FORMAT))
        engine.push(await direct(provider, input, FORMAT))
        naive.push(await whole(dir, input))
      }
      const row = { text, chars: input.length, audioSeconds, plinth: medianSample(plinth), direct: medianSample(engine), whole: medianSample(naive) }
      rows.push(row)
      console.error(
        `${text.padEnd(13)} ${String(row.chars).padStart(5)} chars ${audioSeconds.toFixed(1).padStart(6)} s audio | ` +
          `plinth first byte ${row.plinth.firstByte.toFixed(0)} ms, total ${row.plinth.total.toFixed(0)} ms | ` +
          `direct ${row.direct.firstByte.toFixed(0)} / ${row.direct.total.toFixed(0)} ms | whole ${row.whole.total.toFixed(0)} ms`,
      )
    }
  } finally {
    server.child.kill('SIGTERM')
    fs.rmSync(dir, { recursive: true, force: true })
  }
  writeBenchmarkSection(SECTION, report(rows))
}

function report(rows: Row[]): string {
  const rtf = (sample: Sample, row: Row) => (sample.total / 1000 / row.audioSeconds).toFixed(3)
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`
  const lines = [
    SECTION,
    '',
    `Offline model \`flite-speech\` (as \`tts-1\`, voice alloy = flite slt), \`response_format: ${FORMAT}\`, median of ${RUNS} runs`,
    `per text on this machine (${os.cpus().length} cores, ${os.cpus()[0]?.model.trim()}). *Plinth*: the official SDK over HTTP to`,
    '`plinth serve`, the body read as it streams. *Direct*: the same engines and sentence pipeline',
    '(flite per sentence into one ffmpeg) called in the benchmark process, without HTTP. *Whole*: flite',
    'on the whole text, then ffmpeg on the whole file (no streaming: the first byte is the last).',
    'RTF: seconds of work per second of audio (lower is faster). Ratios are direct / Plinth (target >= 0.9x).',
    '',
    '| text | chars | audio s | Plinth first byte ms | direct first byte ms | ratio | Plinth RTF | direct RTF | ratio | whole RTF |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (row) =>
        `| ${row.text} | ${row.chars} | ${row.audioSeconds.toFixed(1)} | ${row.plinth.firstByte.toFixed(0)} | ${row.direct.firstByte.toFixed(0)} | ` +
        `${ratio(row.direct.firstByte, row.plinth.firstByte)} | ${rtf(row.plinth, row)} | ${rtf(row.direct, row)} | ` +
        `${ratio(row.direct.total, row.plinth.total)} | ${rtf(row.whole, row)} |`,
    ),
    '',
  ]
  return lines.join('\n')
}

await main()
