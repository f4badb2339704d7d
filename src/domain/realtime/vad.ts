/**
 * Server VAD (turn_detection `server_vad`) as an energy detector: the loudness (RMS) of each 20 ms
 * frame of the 24 kHz input against a level set by `threshold`. It is not a neural model (OpenAI's
 * is): it hears any sound loud enough as speech, so background noise above the level keeps a turn
 * open; a higher threshold asks for louder audio. docs/realtime.md, "Turn detection".
 */
export type VadSettings = { threshold: number; silence_duration_ms: number }
export type VadEvent = { type: 'speech_started'; at: number } | { type: 'speech_stopped'; at: number }

/** Samples a frame: 20 ms at 24 kHz. */
const FRAME = 480
const SAMPLES_PER_MS = 24
/** Loud frames in a row that start speech (40 ms): a click is no turn. */
const START_FRAMES = 2

/**
 * The frame RMS (of full scale) that counts as speech: threshold 0 → -70 dBFS (a whisper),
 * OpenAI's default 0.5 → -40 dBFS (quiet speech, over a quiet room's noise), 1 → -10 dBFS.
 */
export function speechLevel(threshold: number): number {
  return 10 ** ((-70 + 60 * threshold) / 20)
}

export class EnergyVad {
  private sum = 0
  private filled = 0
  /** The position (samples since the session's first append) of the next sample. */
  private position: number
  private speaking = false
  private loud = 0
  private quiet = 0
  private readonly start: number
  /** Once speaking, quieter frames (by 6 dB) still count as speech: a trailing word is not cut. */
  private readonly keep: number

  constructor(
    private readonly settings: VadSettings,
    position: number,
  ) {
    this.position = position
    this.start = speechLevel(settings.threshold)
    this.keep = this.start / 2
  }

  get active(): boolean {
    return this.speaking
  }

  /** The events that these samples bring, each at its position. */
  push(samples: Int16Array): VadEvent[] {
    const events: VadEvent[] = []
    for (let i = 0; i < samples.length; i++) {
      const v = samples[i] / 32768
      this.sum += v * v
      this.position++
      if (++this.filled < FRAME) continue
      this.decide(Math.sqrt(this.sum / FRAME), events)
      this.sum = 0
      this.filled = 0
    }
    return events
  }

  /** After each whole frame (position is its end): start or stop a turn. */
  private decide(rms: number, events: VadEvent[]) {
    if (!this.speaking) {
      this.loud = rms >= this.start ? this.loud + 1 : 0
      if (this.loud >= START_FRAMES) {
        this.speaking = true
        this.quiet = 0
        events.push({ type: 'speech_started', at: this.position - START_FRAMES * FRAME })
      }
      return
    }
    this.quiet = rms >= this.keep ? 0 : this.quiet + 1
    if (this.quiet * FRAME >= Math.max(1, this.settings.silence_duration_ms * SAMPLES_PER_MS)) {
      this.speaking = false
      this.loud = 0
      events.push({ type: 'speech_stopped', at: this.position })
    }
  }
}

export const msOf = (samples: number) => Math.floor(samples / SAMPLES_PER_MS)
export const samplesOfMs = (ms: number) => ms * SAMPLES_PER_MS
