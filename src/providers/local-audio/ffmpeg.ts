import { engineUnavailable } from '../../errors.js'
import { findExecutable, pipeProcess, runProcess, type PipeOptions } from './process-pipe.js'

const INSTALL = 'apt-get install -y --no-install-recommends ffmpeg'

/** ffmpeg's path, or the 503 that names the package to install. */
export function requireFfmpeg(): string {
  const ffmpeg = findExecutable('ffmpeg')
  if (!ffmpeg) throw engineUnavailable('ffmpeg (audio encoding and decoding)', INSTALL)
  return ffmpeg
}

export function ffprobePath(): string {
  const ffprobe = findExecutable('ffprobe')
  if (!ffprobe) throw engineUnavailable('ffprobe (audio probing)', INSTALL)
  return ffprobe
}

/** Quiet, non-interactive, stdin to stdout: the flags every call here shares. */
const BASE = ['-hide_banner', '-loglevel', 'error', '-nostdin']

/**
 * ffmpeg from stdin to stdout, streamed: `inputArgs` describe the input (e.g. `-f s16le -ar 16000
 * -ac 1`), `outputArgs` the output (e.g. `-f mp3 -b:a 64k`). Killed with the request.
 */
export function ffmpegPipe(inputArgs: string[], outputArgs: string[], options: PipeOptions): AsyncGenerator<Buffer> {
  const ffmpeg = requireFfmpeg()
  // -nostdin would stop ffmpeg reading its input from stdin; 'pipe:0' is the input here
  const args = ['-hide_banner', '-loglevel', 'error', ...inputArgs, '-i', 'pipe:0', ...outputArgs, 'pipe:1']
  return pipeProcess(ffmpeg, args, options)
}

/** ffmpeg from a file on disk to stdout, all at once (decoding an upload). */
export function ffmpegFile(file: string, outputArgs: string[], signal?: AbortSignal): Promise<Buffer> {
  return runProcess(requireFfmpeg(), [...BASE, '-i', file, ...outputArgs, 'pipe:1'], { signal })
}
