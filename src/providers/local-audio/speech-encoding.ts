import type { SpeechFormat } from '../speech-backend.js'

/** OpenAI's speech is 24 kHz mono in every format; `pcm` is documented as exactly that. */
export const SPEECH_SAMPLE_RATE = 24_000

/**
 * ffmpeg's output arguments for a format. Every format can be written to a pipe as it is encoded:
 * mp3 and ADTS AAC are frame streams, Opus goes in Ogg pages, and WAV and FLAC headers are written
 * first with the length left open (as OpenAI's streamed WAV has it), since a pipe cannot be
 * rewound to fill it in.
 */
const CODECS: Readonly<Record<SpeechFormat, string[]>> = {
  mp3: ['-c:a', 'libmp3lame', '-b:a', '64k', '-f', 'mp3'],
  opus: ['-c:a', 'libopus', '-b:a', '32k', '-f', 'ogg'],
  aac: ['-c:a', 'aac', '-b:a', '64k', '-f', 'adts'],
  flac: ['-c:a', 'flac', '-f', 'flac'],
  wav: ['-c:a', 'pcm_s16le', '-f', 'wav'],
  pcm: ['-c:a', 'pcm_s16le', '-f', 's16le'],
}

/** Raw samples of `inputRate` in, the format out at 24 kHz, each packet flushed as it is made. */
export function encoderArgs(format: SpeechFormat, inputRate: number): { input: string[]; output: string[] } {
  return {
    input: ['-f', 's16le', '-ar', String(inputRate), '-ac', '1'],
    output: ['-ar', String(SPEECH_SAMPLE_RATE), '-ac', '1', '-map_metadata', '-1', '-flush_packets', '1', ...CODECS[format]],
  }
}
