import { describe, expect, it } from 'vitest'
import { alawDecode, alawEncode, bytesOf, Decimator, InputDecoder, Interpolator, OutputEncoder, samplesOf, ulawDecode, ulawEncode } from './g711.js'

/** A sine at `hz`, 24 kHz samples. */
function sine(hz: number, samples: number, amplitude = 10_000, rate = 24_000): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / rate)))
}

/** Signal to noise of `got` against `want` shifted by `delay` samples, in dB (edges left out). */
function snr(want: Int16Array, got: Int16Array, delay: number): number {
  let signal = 0
  let noise = 0
  for (let i = 200; i < want.length - 200; i++) {
    signal += want[i] ** 2
    noise += (want[i] - got[i + delay]) ** 2
  }
  return 10 * Math.log10(signal / noise)
}

describe('G.711', () => {
  it('decodes the standard tables', () => {
    // μ-law: 0xFF and 0x7F are zero, 0x00 and 0x80 the extremes
    expect([ulawDecode(0xff), ulawDecode(0x7f), ulawDecode(0x00), ulawDecode(0x80), ulawDecode(0xf0)]).toEqual([0, 0, -32124, 32124, 120])
    // A-law: 0xD5/0x55 are ±8, 0xAA/0x2A the extremes
    expect([alawDecode(0xd5), alawDecode(0x55), alawDecode(0xaa), alawDecode(0x2a)]).toEqual([8, -8, 32256, -32256])
  })

  it('encodes to the standard codes, and each code decodes back to itself', () => {
    expect([ulawEncode(0), ulawEncode(32767), ulawEncode(-32768), ulawEncode(120)]).toEqual([0xff, 0x80, 0x00, 0xf0])
    expect([alawEncode(0), alawEncode(-1), alawEncode(32767), alawEncode(-32768)]).toEqual([0xd5, 0x55, 0xaa, 0x2a])
    for (let b = 0; b < 256; b++) {
      if (b !== 0x7f) expect(ulawEncode(ulawDecode(b))).toBe(b) // 0x7F is -0, which encodes as +0
      expect(alawEncode(alawDecode(b))).toBe(b)
    }
  })

  it('changes the rate by 3 with little loss: a 440 Hz tone down to 8 kHz and back', () => {
    const tone = sine(440, 24_000)
    const down = new Decimator()
    const up = new Interpolator()
    // in uneven chunks: the filters keep their history between them
    const narrow: Int16Array[] = []
    for (let at = 0; at < tone.length; at += 1001) narrow.push(down.push(tone.subarray(at, at + 1001)))
    const joined = Int16Array.from(narrow.flatMap((chunk) => [...chunk]))
    expect(joined.length).toBe(8000)
    // 8 kHz samples of the tone 31 samples (24 kHz) late: the decimator's delay
    const late = Int16Array.from({ length: 8000 }, (_, i) => Math.round(10_000 * Math.sin((2 * Math.PI * 440 * (3 * i - 31)) / 24_000)))
    expect(snr(late, joined, 0)).toBeGreaterThan(30)
    const wide = up.push(joined)
    expect(wide.length).toBe(24_000)
    // the two filters delay it by 62 samples in all
    expect(snr(tone, wide, 62)).toBeGreaterThan(30)
  })

  it('takes out what 8 kHz cannot carry: a 6 kHz tone is gone', () => {
    const narrow = new Decimator().push(sine(6000, 24_000))
    const rms = Math.sqrt(narrow.reduce((a, v) => a + v * v, 0) / narrow.length)
    expect(rms).toBeLessThan(10_000 * 0.05)
  })

  it('round-trips pcm16 through g711_ulaw and g711_alaw', () => {
    const tone = sine(440, 24_000)
    for (const format of ['g711_ulaw', 'g711_alaw'] as const) {
      const encoded = new OutputEncoder(format).push(bytesOf(tone))
      expect(encoded.length).toBe(8000)
      expect(OutputEncoder.ms(format, encoded.length)).toBe(1000)
      const decoder = new InputDecoder(format)
      expect(decoder.pcmBytes(encoded.length)).toBe(48_000)
      const back = decoder.push(encoded)
      expect(back.length).toBe(24_000)
      expect(snr(tone, back, 62)).toBeGreaterThan(25)
    }
  })

  it('keeps an odd pcm16 byte for the next chunk', () => {
    const decoder = new InputDecoder('pcm16')
    const bytes = bytesOf(Int16Array.from([1, -2, 300]))
    expect([...decoder.push(bytes.subarray(0, 3))]).toEqual([1])
    expect([...decoder.push(bytes.subarray(3))]).toEqual([-2, 300])
    expect([...samplesOf(Buffer.from([0x01, 0x80]))]).toEqual([-32767])
  })
})
