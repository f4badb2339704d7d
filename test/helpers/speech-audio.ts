import { execFileSync } from 'node:child_process'
import path from 'node:path'

/**
 * Speech made for recognition tests: Debian's flite (the kal16 voice; espeak's speech defeats
 * pocketsphinx, see the design note on local models), encoded by ffmpeg into an upload format.
 */
export function speak(text: string, file: string, voice = 'kal16'): string {
  execFileSync('flite', ['-voice', voice, '-t', text, '-o', file])
  return file
}

/** ffmpeg's encoding of `input` to `output`, the format chosen by the output's extension. */
export function encode(input: string, output: string): string {
  const ext = path.extname(output).slice(1)
  const codec: Record<string, string[]> = {
    mp3: ['-c:a', 'libmp3lame'],
    mpga: ['-c:a', 'libmp3lame', '-f', 'mp3'],
    mpeg: ['-c:a', 'libmp3lame', '-f', 'mp3'],
    ogg: ['-c:a', 'libopus'],
    webm: ['-c:a', 'libopus'],
    m4a: ['-c:a', 'aac'],
    mp4: ['-c:a', 'aac'],
    flac: ['-c:a', 'flac'],
    wav: [],
  }
  execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-i', input, ...(codec[ext] ?? []), output])
  return output
}

/** The files joined with `gap` seconds of silence between them, as 16 kHz mono WAV. */
export function joinWithSilence(inputs: string[], gap: number, output: string): string {
  const silence = output.replace(/\.wav$/, '') + '-silence.wav'
  execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-f', 'lavfi', '-t', String(gap), '-i', 'anullsrc=r=16000:cl=mono', silence])
  const sequence = inputs.flatMap((input, i) => (i === 0 ? [input] : [silence, input]))
  const args = ['-y', '-loglevel', 'error', ...sequence.flatMap((input) => ['-i', input])]
  const pads = sequence.map((_, i) => `[${i}:a]`).join('')
  args.push('-filter_complex', `${pads}concat=n=${sequence.length}:v=0:a=1[out]`, '-map', '[out]', '-ar', '16000', '-ac', '1', output)
  execFileSync('ffmpeg', args)
  return output
}

/** The duration of an audio file in seconds, by ffprobe. */
export function durationOf(file: string): number {
  return Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]).toString().trim())
}

const words = (text: string) => text.toLowerCase().replace(/[^a-z0-9' ]+/g, ' ').split(/\s+/).filter(Boolean)

/** Word-level edit distance (substitutions, insertions, deletions) and the reference's length. */
export function wordErrors(reference: string, hypothesis: string): { errors: number; words: number } {
  const ref = words(reference)
  const hyp = words(hypothesis)
  let row = Array.from({ length: hyp.length + 1 }, (_, j) => j)
  for (let i = 1; i <= ref.length; i++) {
    const next = [i]
    for (let j = 1; j <= hyp.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (ref[i - 1] === hyp[j - 1] ? 0 : 1))
    }
    row = next
  }
  return { errors: row[hyp.length], words: ref.length }
}
