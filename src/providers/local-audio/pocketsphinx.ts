import fs from 'node:fs'
import path from 'node:path'
import { engineUnavailable } from '../../errors.js'
import { AudioUndecodable, type TranscriptEvent, type TranscriptSegment, type TranscriptWord } from '../transcription-backend.js'
import { requireFfmpeg } from './ffmpeg.js'
import { findExecutable, pipeProcess, ProcessFailed, runProcess } from './process-pipe.js'

const INSTALL = 'apt-get install -y --no-install-recommends pocketsphinx pocketsphinx-en-us'
/** Debian's en-us acoustic model, language model and dictionary (pocketsphinx-en-us). */
export const EN_US_MODEL = '/usr/share/pocketsphinx/model/en-us'

/** What pocketsphinx is fed: what its en-us acoustic model was trained on. */
const SAMPLE_RATE = 16_000
const BYTES_PER_SECOND = SAMPLE_RATE * 2

/** pocketsphinx_continuous's path, or the 503 that names the packages to install. */
export function requirePocketsphinx(): string {
  const binary = findExecutable('pocketsphinx_continuous')
  if (!binary || !fs.existsSync(`${EN_US_MODEL}/en-us.lm.bin`)) {
    throw engineUnavailable('pocketsphinx with its en-us model (speech recognition)', INSTALL)
  }
  return binary
}

/**
 * Recognizes an audio file of any format ffmpeg reads: ffmpeg decodes it to 16 kHz mono 16-bit
 * PCM beside the upload, then `pocketsphinx_continuous` cuts it at pauses and prints each
 * utterance's words with their times (`-time yes`) as soon as it is decoded. Both processes are
 * killed when the signal aborts or the consumer stops; nothing stays resident between requests
 * (docs/audio.md has the cost of that). The PCM goes through a file, not a pipe: Node's child
 * stdin is a socket, which pocketsphinx cannot open as `/dev/stdin`, and decoding runs at
 * hundreds of times real time, so overlapping it with recognition would gain little.
 */
export async function* recognize(file: string, signal: AbortSignal): AsyncGenerator<TranscriptEvent> {
  const ffmpeg = requireFfmpeg()
  const pocketsphinx = requirePocketsphinx()
  const pcm = path.join(path.dirname(file), `${path.basename(file)}.s16le`)
  try {
    try {
      await runProcess(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', file, '-vn', '-ac', '1', '-ar', String(SAMPLE_RATE), '-f', 's16le', pcm], { signal })
    } catch (error) {
      if (error instanceof ProcessFailed) throw new AudioUndecodable(error.stderr.trim() || 'ffmpeg could not decode the file')
      throw error
    }
    const duration = (await fs.promises.stat(pcm)).size / BYTES_PER_SECOND
    // a name not ending in .wav makes pocketsphinx read headerless 16 kHz samples
    const args = ['-infile', pcm, '-time', 'yes', '-logfn', '/dev/null', '-hmm', `${EN_US_MODEL}/en-us`, '-lm', `${EN_US_MODEL}/en-us.lm.bin`, '-dict', `${EN_US_MODEL}/cmudict-en-us.dict`]
    const parser = new TimedOutput()
    for await (const chunk of pipeProcess(pocketsphinx, args, { signal })) {
      for (const segment of parser.push(chunk.toString('latin1'))) yield { type: 'segment', segment }
    }
    for (const segment of parser.push('\n')) yield { type: 'segment', segment }
    yield { type: 'end', duration }
  } finally {
    await fs.promises.rm(pcm, { force: true })
  }
}

/** Tokens the recognizer writes for what is not a word: sentence marks, silence, noise. */
const FILLER = /^(<s>|<\/s>|<sil>|\[[A-Z]+\]|\+\+.*\+\+)$/

/**
 * Reads `pocketsphinx_continuous -time yes` output as it comes. Each utterance is a line with the
 * hypothesis, then one line per token `word start end posterior` from `<s>` to `</s>`; alternate
 * pronunciations carry a `(2)` suffix.
 */
export class TimedOutput {
  private rest = ''
  private words: TranscriptWord[] = []
  private start: number | undefined
  private silent = 0

  push(text: string): TranscriptSegment[] {
    const lines = (this.rest + text).split('\n')
    this.rest = lines.pop()!
    const done: TranscriptSegment[] = []
    for (const line of lines) {
      const parts = line.trim().split(/\s+/)
      if (parts.length !== 4 || !isTime(parts[1]) || !isTime(parts[2])) continue // a hypothesis line
      const [token, from, to, posterior] = parts
      const start = Number(from)
      const end = Number(to)
      this.start ??= start
      if (token === '</s>') {
        const segment = this.close(end)
        if (segment) done.push(segment)
        continue
      }
      if (FILLER.test(token)) {
        this.silent += end - start
        continue
      }
      const confidence = Math.min(1, Math.max(0, Number(posterior) || 0))
      this.words.push({ word: token.replace(/\(\d+\)$/, ''), start, end, confidence })
    }
    return done
  }

  private close(end: number): TranscriptSegment | undefined {
    const words = this.words
    const start = this.start ?? end
    const silent = this.silent
    this.words = []
    this.start = undefined
    this.silent = 0
    if (!words.length) return undefined
    const span = Math.max(end - start, 1e-6)
    return {
      start: words[0].start,
      end: words[words.length - 1].end,
      text: words.map((w) => w.word).join(' '),
      words,
      noSpeech: Math.min(1, silent / span),
    }
  }
}

function isTime(text: string): boolean {
  return /^\d+\.\d+$/.test(text)
}

/** For `plinth doctor`: whether the offline recognizer can run here, and how to install it. */
export function pocketsphinxStatus(): { ok: boolean; detail: string; fix: string } {
  const binary = findExecutable('pocketsphinx_continuous')
  const model = fs.existsSync(`${EN_US_MODEL}/en-us.lm.bin`)
  const ffmpeg = findExecutable('ffmpeg')
  const ok = Boolean(binary && model && ffmpeg)
  const missing = [!binary && 'pocketsphinx_continuous', !model && `the en-us model (${EN_US_MODEL})`, !ffmpeg && 'ffmpeg'].filter(Boolean)
  const detail = ok ? `${binary} with ${EN_US_MODEL} (pocketsphinx-en-us, whisper-1)` : `missing: ${missing.join(', ')}`
  return { ok, detail, fix: `${INSTALL} ffmpeg` }
}
