/**
 * G.711 telephony audio (ITU-T G.711: μ-law and A-law, 8 kHz, one byte a sample) to and from the
 * 24 kHz pcm16 that the speech and transcription engines use. The companding follows the
 * standard's segment tables (the reference coder's arithmetic); the rate changes by exactly 3 with
 * one windowed-sinc low-pass filter, as a polyphase interpolator (8 → 24 kHz) and a decimator
 * (24 → 8 kHz). Both are streams: each keeps the filter's history between chunks, and each delays
 * the audio by the filter's group delay, 31 samples at 24 kHz (1.3 ms).
 */
export type AudioFormat = 'pcm16' | 'g711_ulaw' | 'g711_alaw'

const ULAW_BIAS = 0x84
const ULAW_CLIP = 32635

export function ulawEncode(sample: number): number {
  let s = sample
  const sign = s < 0 ? 0x80 : 0
  if (sign) s = -s
  if (s > ULAW_CLIP) s = ULAW_CLIP
  s += ULAW_BIAS
  let exponent = 7
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--
  const mantissa = (s >> (exponent + 3)) & 0x0f
  return ~(sign | (exponent << 4) | mantissa) & 0xff
}

export function ulawDecode(byte: number): number {
  const u = ~byte & 0xff
  const exponent = (u >> 4) & 0x07
  const sample = ((((u & 0x0f) << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS
  return u & 0x80 ? -sample | 0 : sample
}

/** The ends of A-law's segments, for the 13-bit magnitude. */
const ALAW_SEGMENT_END = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff]

export function alawEncode(sample: number): number {
  let value = sample >> 3
  let mask: number
  if (value >= 0) mask = 0xd5
  else {
    mask = 0x55
    value = -value - 1
  }
  let segment = 0
  while (segment < 8 && value > ALAW_SEGMENT_END[segment]) segment++
  if (segment >= 8) return 0x7f ^ mask
  const mantissa = segment < 2 ? (value >> 1) & 0x0f : (value >> segment) & 0x0f
  return ((segment << 4) | mantissa) ^ mask
}

export function alawDecode(byte: number): number {
  const a = byte ^ 0x55
  let t = (a & 0x0f) << 4
  const segment = (a & 0x70) >> 4
  if (segment === 0) t += 8
  else t = (t + 0x108) << (segment - 1)
  return a & 0x80 ? t : -t
}

const tables = new Map<string, Int16Array | Uint8Array>()

/** The byte → sample table of a law (256 entries), made once. */
function decodeTable(format: 'g711_ulaw' | 'g711_alaw'): Int16Array {
  let table = tables.get(`d${format}`) as Int16Array | undefined
  if (!table) {
    table = new Int16Array(256)
    for (let b = 0; b < 256; b++) table[b] = format === 'g711_ulaw' ? ulawDecode(b) : alawDecode(b)
    tables.set(`d${format}`, table)
  }
  return table
}

/** The sample → byte table of a law (65,536 entries, indexed by the sample + 32768), made once. */
function encodeTable(format: 'g711_ulaw' | 'g711_alaw'): Uint8Array {
  let table = tables.get(`e${format}`) as Uint8Array | undefined
  if (!table) {
    table = new Uint8Array(65536)
    for (let s = -32768; s < 32768; s++) table[s + 32768] = format === 'g711_ulaw' ? ulawEncode(s) : alawEncode(s)
    tables.set(`e${format}`, table)
  }
  return table
}

/**
 * The low-pass filter of both rate changes: 63 taps of a Hamming-windowed sinc at 24 kHz, cut at
 * 3.6 kHz (under 8 kHz audio's 4 kHz Nyquist limit; telephone speech ends at 3.4 kHz), unit gain.
 */
const TAPS = (() => {
  const n = 63
  const cutoff = 3600 / 24_000
  const h = new Float64Array(n)
  const middle = (n - 1) / 2
  for (let i = 0; i < n; i++) {
    const x = i - middle
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x)
    h[i] = sinc * (0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (n - 1)))
  }
  const sum = h.reduce((a, b) => a + b, 0)
  return h.map((v) => v / sum)
})()

const clamp16 = (v: number) => (v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v))

/** 24 kHz samples → 8 kHz: filtered, then every third sample kept. */
export class Decimator {
  private history = new Float64Array(TAPS.length - 1)
  /** Where the next kept sample falls in the next chunk (0, 1 or 2). */
  private phase = 0

  push(input: Int16Array): Int16Array {
    const n = TAPS.length
    const x = new Float64Array(n - 1 + input.length)
    x.set(this.history)
    x.set(input, n - 1)
    const out = new Int16Array(Math.max(0, Math.ceil((input.length - this.phase) / 3)))
    let o = 0
    for (let at = this.phase; at < input.length; at += 3) {
      const end = at + n - 1
      let acc = 0
      for (let t = 0; t < n; t++) acc += TAPS[t] * x[end - t]
      out[o++] = clamp16(acc)
    }
    this.phase = this.phase + out.length * 3 - input.length
    this.history = x.slice(x.length - (n - 1))
    return out
  }
}

/** 8 kHz samples → 24 kHz: two zeros after each sample, filtered (polyphase: 21 taps an output). */
export class Interpolator {
  private readonly keep = Math.ceil(TAPS.length / 3) - 1
  private history = new Float64Array(this.keep)

  push(input: Int16Array): Int16Array {
    const x = new Float64Array(this.keep + input.length)
    x.set(this.history)
    x.set(input, this.keep)
    const out = new Int16Array(input.length * 3)
    for (let i = 0; i < input.length; i++) {
      const n = i + this.keep
      for (let k = 0; k < 3; k++) {
        let acc = 0
        for (let j = 0, t = k; t < TAPS.length; j++, t += 3) acc += TAPS[t] * x[n - j]
        out[i * 3 + k] = clamp16(3 * acc)
      }
    }
    this.history = x.slice(x.length - this.keep)
    return out
  }
}

/** Little-endian pcm16 bytes as samples (an odd last byte is no sample). */
export function samplesOf(pcm: Buffer): Int16Array {
  const samples = new Int16Array(pcm.length >> 1)
  new Uint8Array(samples.buffer).set(pcm.subarray(0, samples.length * 2))
  return samples
}

export function bytesOf(samples: Int16Array): Buffer {
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength)
}

/** A stream of the client's input audio (the session's input_audio_format) → 24 kHz pcm16. */
export class InputDecoder {
  private readonly interpolator = new Interpolator()
  private odd: Buffer | undefined
  constructor(readonly format: AudioFormat) {}

  /** How many pcm16 bytes `bytes` of input become (to check the buffer's bound first). */
  pcmBytes(bytes: number): number {
    return this.format === 'pcm16' ? bytes : bytes * 6
  }

  /** The samples of a chunk; pcm16 keeps an odd byte for the next chunk. */
  push(chunk: Buffer): Int16Array {
    if (this.format === 'pcm16') {
      const bytes = this.odd ? Buffer.concat([this.odd, chunk]) : chunk
      this.odd = bytes.length % 2 ? bytes.subarray(bytes.length - 1) : undefined
      return samplesOf(bytes)
    }
    const table = decodeTable(this.format)
    const narrow = new Int16Array(chunk.length)
    for (let i = 0; i < chunk.length; i++) narrow[i] = table[chunk[i]]
    return this.interpolator.push(narrow)
  }
}

/** A stream of 24 kHz pcm16 (the speech engine's) → the session's output_audio_format. */
export class OutputEncoder {
  private readonly decimator = new Decimator()
  private odd: Buffer | undefined
  constructor(readonly format: AudioFormat) {}

  push(chunk: Buffer): Buffer {
    if (this.format === 'pcm16') return chunk
    const bytes = this.odd ? Buffer.concat([this.odd, chunk]) : chunk
    this.odd = bytes.length % 2 ? bytes.subarray(bytes.length - 1) : undefined
    const narrow = this.decimator.push(samplesOf(bytes))
    const table = encodeTable(this.format)
    const out = Buffer.allocUnsafe(narrow.length)
    for (let i = 0; i < narrow.length; i++) out[i] = table[narrow[i] + 32768]
    return out
  }

  /** Milliseconds of audio in `bytes` of this format. */
  static ms(format: AudioFormat, bytes: number): number {
    return format === 'pcm16' ? bytes / 48 : bytes / 8
  }
}
