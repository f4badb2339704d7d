import { describe, expect, it } from 'vitest'
import { EnergyVad, speechLevel } from './vad.js'

/** `ms` of a 300 Hz tone at `dbfs` (RMS), 24 kHz, or silence. */
function audio(ms: number, dbfs?: number): Int16Array {
  const amplitude = dbfs === undefined ? 0 : 32768 * Math.SQRT2 * 10 ** (dbfs / 20)
  return Int16Array.from({ length: ms * 24 }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * 300 * i) / 24_000)))
}

describe('the energy voice activity detector', () => {
  it('maps threshold to a level: 0.5 is -40 dBFS', () => {
    expect(20 * Math.log10(speechLevel(0.5))).toBeCloseTo(-40)
    expect(20 * Math.log10(speechLevel(0))).toBeCloseTo(-70)
  })

  it('finds a burst between silences: started where it begins, stopped after the silence asked', () => {
    const vad = new EnergyVad({ threshold: 0.5, silence_duration_ms: 300 }, 0)
    expect(vad.push(audio(500))).toEqual([])
    // in small pieces, as a client streams it: the frames span the pieces
    const events = []
    const burst = audio(600, -20)
    for (let at = 0; at < burst.length; at += 333) events.push(...vad.push(burst.subarray(at, at + 333)))
    expect(events).toEqual([{ type: 'speech_started', at: 500 * 24 }])
    expect(vad.active).toBe(true)
    expect(vad.push(audio(280))).toEqual([])
    expect(vad.push(audio(500))).toEqual([{ type: 'speech_stopped', at: (1100 + 300) * 24 }])
    expect(vad.active).toBe(false)
  })

  it('hears nothing under the level, nor a click', () => {
    const vad = new EnergyVad({ threshold: 0.5, silence_duration_ms: 200 }, 0)
    expect(vad.push(audio(1000, -50))).toEqual([])
    expect(vad.push(audio(20, -10))).toEqual([])
    expect(vad.push(audio(1000))).toEqual([])
    // the same quiet tone is speech to a low threshold
    expect(new EnergyVad({ threshold: 0.2, silence_duration_ms: 200 }, 0).push(audio(1000, -50))[0]).toMatchObject({ type: 'speech_started' })
  })
})
