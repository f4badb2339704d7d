import { ffprobePath } from './ffmpeg.js'
import { runProcess } from './process-pipe.js'

/**
 * The duration in seconds of an audio file by its container (ffprobe), for billing audio another
 * server transcribed; undefined when ffprobe is missing or cannot read the file.
 */
export async function probeDuration(file: string, signal: AbortSignal): Promise<number | undefined> {
  try {
    const args = ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=noprint_wrappers=1:nokey=1', file]
    const seconds = Number((await runProcess(ffprobePath(), args, { signal })).toString().trim())
    return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined
  } catch {
    return undefined
  }
}
