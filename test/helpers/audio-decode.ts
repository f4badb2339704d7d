import { execFile, execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Decoded audio: its codec as ffprobe names it, and its length from the decoded samples. */
export type DecodedAudio = { codec: string; seconds: number; sampleRate: number }

/**
 * Decodes audio bytes with ffmpeg (ffprobe for the codec), counting the samples rather than
 * trusting a header: streamed WAV and FLAC leave their length open. `pcm` is raw 24 kHz s16le.
 */
export async function decodeAudio(bytes: Uint8Array, format: string): Promise<DecodedAudio> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-audio-'))
  const file = path.join(dir, `speech.${format}`)
  fs.writeFileSync(file, bytes)
  try {
    const raw = format === 'pcm' ? ['-f', 's16le', '-ar', '24000', '-ac', '1'] : []
    const probe = await run('ffprobe', ['-v', 'error', ...raw, '-show_entries', 'stream=codec_name,sample_rate', '-of', 'csv=p=0', file])
    const [codec, rate] = probe.stdout.trim().split('\n')[0].split(',')
    const decoded = await run('ffmpeg', ['-v', 'error', ...raw, '-i', file, '-f', 's16le', '-ac', '1', '-ar', '8000', 'pipe:1'], {
      encoding: 'buffer',
      maxBuffer: 64 * 1024 * 1024,
    })
    return { codec, sampleRate: Number(rate), seconds: decoded.stdout.length / 2 / 8000 }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** The pids of this process's children running `name` (flite, ffmpeg). */
export function childProcesses(name: string): number[] {
  const out = execFileSync('sh', ['-c', `pgrep -x ${name} -P ${process.pid} || true`]).toString().trim()
  return out ? out.split('\n').map(Number) : []
}
