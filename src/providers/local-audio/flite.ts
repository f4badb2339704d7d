import { randomUUID } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { engineUnavailable } from '../../errors.js'
import { findExecutable, runProcess } from './process-pipe.js'

const INSTALL = 'apt-get install -y --no-install-recommends flite'

/** flite's path, or the 503 that names the package to install. */
export function requireFlite(): string {
  const flite = findExecutable('flite')
  if (!flite) throw engineUnavailable('flite (speech synthesis)', INSTALL)
  return flite
}

/** The rate every voice used here speaks at (kal, the 8 kHz one, is left out). */
export const FLITE_SAMPLE_RATE = 16_000

/**
 * OpenAI's voices on flite's: the four general-purpose voices Debian's flite ships (slt: US
 * female; rms: US male; awb: Scottish male; kal16: US male diphone), each OpenAI voice with its
 * own pitch where the voice can shift it (rms cannot). `awb_time` only speaks the time of day and
 * `kal` is an 8 kHz copy of kal16, so neither is used. docs/audio.md has the table.
 */
export const FLITE_VOICES: Readonly<Record<string, { voice: string; pitch?: number }>> = {
  alloy: { voice: 'slt', pitch: 150 },
  ash: { voice: 'rms' },
  ballad: { voice: 'awb', pitch: 125 },
  coral: { voice: 'slt', pitch: 185 },
  echo: { voice: 'kal16', pitch: 105 },
  fable: { voice: 'awb', pitch: 100 },
  onyx: { voice: 'kal16', pitch: 85 },
  nova: { voice: 'slt', pitch: 170 },
  sage: { voice: 'slt', pitch: 200 },
  shimmer: { voice: 'slt', pitch: 215 },
  verse: { voice: 'awb', pitch: 145 },
  marin: { voice: 'slt', pitch: 160 },
  cedar: { voice: 'kal16', pitch: 125 },
}

/** The voice names of the spec's enum (VoiceIdsShared) and the SDK's newer two, in OpenAI's order. */
export const SPEECH_VOICES = Object.keys(FLITE_VOICES)

/** The arguments that make flite speak `text` with `voice` at `speed` into the WAV file `out`. */
export function fliteArgs(text: string, voice: string, speed: number, out: string): string[] {
  const mapped = FLITE_VOICES[voice]
  const args = ['-voice', mapped.voice]
  // flite stretches its own durations: pitch stays where it was, which ffmpeg's atempo also
  // does, but without a second pass over the audio
  if (speed !== 1) args.push('--setf', `duration_stretch=${1 / speed}`)
  if (mapped.pitch) args.push('--setf', `int_f0_target_mean=${mapped.pitch}`)
  // -t takes the next argument whole, so text starting with '-' is still text
  args.push('-t', text, '-o', out)
  return args
}

/** One piece of text as 16 kHz mono signed 16-bit little-endian samples. */
export async function fliteSamples(flite: string, text: string, voice: string, speed: number, signal: AbortSignal): Promise<Buffer> {
  // a file, not /dev/stdout: Node gives children sockets for stdio, which /dev/stdout cannot
  // open, and flite then writes nothing and still exits 0
  const out = path.join(SCRATCH, `plinth-flite-${randomUUID()}.wav`)
  try {
    await runProcess(flite, fliteArgs(text, voice, speed, out), { signal })
    return wavData(await fs.readFile(out))
  } finally {
    await fs.rm(out, { force: true })
  }
}

/** Memory-backed when the host has it: the files live for a few milliseconds. */
const SCRATCH = await fs.access('/dev/shm', fs.constants.W_OK).then(
  () => '/dev/shm',
  () => os.tmpdir(),
)

/** The samples of a RIFF/WAVE file: the `data` chunk, wherever the header puts it. */
export function wavData(wav: Buffer): Buffer {
  if (wav.length < 12 || wav.toString('latin1', 0, 4) !== 'RIFF' || wav.toString('latin1', 8, 12) !== 'WAVE') {
    throw new Error('flite did not write a WAV file')
  }
  let at = 12
  while (at + 8 <= wav.length) {
    const id = wav.toString('latin1', at, at + 4)
    const size = wav.readUInt32LE(at + 4)
    if (id === 'data') return wav.subarray(at + 8, Math.min(wav.length, at + 8 + size))
    at += 8 + size + (size & 1)
  }
  throw new Error('flite wrote a WAV file without samples')
}
