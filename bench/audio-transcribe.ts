// npm run bench:audio-transcribe: transcription real-time factor through a real Plinth over HTTP
// (the official SDK, verbose_json with word times) next to ffmpeg + pocketsphinx_continuous run
// directly on the same file in the same run. Writes its section of docs/benchmarks.md.
// BENCH_AUDIO_RUNS sets the runs per side (default 5; the median is reported).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import OpenAI, { toFile } from 'openai'
import { createApp, createServer } from '../src/app.js'
import { parseConfig } from '../src/config/load.js'
import { createContext } from '../src/context.js'
import { EN_US_MODEL } from '../src/providers/local-audio/pocketsphinx.js'
import { writeBenchmarkSection } from './docs-section.js'

const KEY = 'sk-proj-bench-audio-0000000000000000000'
const RUNS = Number(process.env.BENCH_AUDIO_RUNS ?? 5)
const SECTION = '## Audio transcription (`npm run bench:audio-transcribe`)'
const SENTENCES = [
  'hello world this is a test of the speech recognition system',
  'the weather is nice today',
  'please call me tomorrow morning',
  'the quick brown fox jumps over the lazy dog',
  'we need to buy some milk and bread',
]

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

function makeSpeech(dir: string): string {
  const parts = SENTENCES.map((s, i) => {
    const file = path.join(dir, `s${i}.wav`)
    execFileSync('flite', ['-voice', 'kal16', '-t', s, '-o', file])
    return file
  })
  const silence = path.join(dir, 'silence.wav')
  execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-f', 'lavfi', '-t', '0.8', '-i', 'anullsrc=r=16000:cl=mono', silence])
  const sequence = parts.flatMap((p, i) => (i ? [silence, p] : [p]))
  const out = path.join(dir, 'speech.mp3')
  const pads = sequence.map((_, i) => `[${i}:a]`).join('')
  execFileSync('ffmpeg', ['-y', '-loglevel', 'error', ...sequence.flatMap((p) => ['-i', p]), '-filter_complex', `${pads}concat=n=${sequence.length}:v=0:a=1[o]`, '-map', '[o]', '-c:a', 'libmp3lame', out])
  return out
}

/** The engines alone: what Plinth runs for one request, as two commands. */
function direct(file: string, dir: string): number {
  const pcm = path.join(dir, 'direct.s16le')
  const t0 = performance.now()
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', file, '-vn', '-ac', '1', '-ar', '16000', '-f', 's16le', pcm])
  execFileSync('pocketsphinx_continuous', ['-infile', pcm, '-time', 'yes', '-logfn', '/dev/null', '-hmm', `${EN_US_MODEL}/en-us`, '-lm', `${EN_US_MODEL}/en-us.lm.bin`, '-dict', `${EN_US_MODEL}/cmudict-en-us.dict`])
  return (performance.now() - t0) / 1000
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-bench-stt-'))
  const ctx = await createContext(parseConfig({ dataDir: dir, bootstrap: { projectKey: KEY } }))
  const server = createServer(ctx, createApp(ctx))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const file = makeSpeech(dir)
    const audioSeconds = Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]).toString())
    const client = new OpenAI({ apiKey: KEY, baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, maxRetries: 0 })
    const bytes = fs.readFileSync(file)
    const viaPlinth = async () => {
      const t0 = performance.now()
      await client.audio.transcriptions.create({ file: await toFile(bytes, 'speech.mp3'), model: 'whisper-1', response_format: 'verbose_json', timestamp_granularities: ['word', 'segment'] })
      return (performance.now() - t0) / 1000
    }
    direct(file, dir)
    await viaPlinth() // warm both paths once
    const directTimes: number[] = []
    const plinthTimes: number[] = []
    for (let i = 0; i < RUNS; i++) {
      // alternated, so load from other work on the machine falls on both sides alike
      directTimes.push(direct(file, dir))
      plinthTimes.push(await viaPlinth())
    }
    const d = median(directTimes)
    const p = median(plinthTimes)
    const rows = [
      ['ffmpeg + pocketsphinx_continuous, run directly', d],
      ['Plinth `POST /v1/audio/transcriptions` (SDK, verbose_json + words)', p],
    ] as const
    for (const [what, s] of rows) console.error(`${what.padEnd(72)} ${s.toFixed(2)} s  RTF ${(s / audioSeconds).toFixed(3)}`)
    const ratio = d / p
    console.error(`ratio (direct / Plinth): ${ratio.toFixed(2)}x`)
    const text = [
      SECTION,
      '',
      `${audioSeconds.toFixed(1)} s of flite speech (5 sentences, mp3), ${RUNS} runs per side alternated, median; ` +
        `real-time factor = processing seconds / audio seconds (lower is faster). ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)} at the end ` +
        `(other work on the machine slows both sides alike; an idle machine runs pocketsphinx at an RTF near 0.2), ${new Date().toISOString().slice(0, 10)}.`,
      '',
      '| path | seconds | real-time factor |',
      '| --- | ---: | ---: |',
      ...rows.map(([what, s]) => `| ${what} | ${s.toFixed(2)} | ${(s / audioSeconds).toFixed(3)} |`),
      '',
      `Plinth runs at **${ratio.toFixed(2)}x** the speed of the engines called directly (target ≥ 0.9x).`,
      '',
    ].join('\n')
    writeBenchmarkSection(SECTION, text)
  } finally {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await ctx.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

await main()
