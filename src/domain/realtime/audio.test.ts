import { describe, expect, it } from 'vitest'
import { appendedAudio, base64Slice, InputAudioBuffer } from './audio.js'

describe('the input audio buffer', () => {
  it('commits as a 24 kHz pcm16 WAV file and empties', () => {
    const buffer = new InputAudioBuffer()
    buffer.add(Buffer.alloc(4800, 1))
    buffer.add(Buffer.alloc(4800, 1))
    const wav = buffer.take()
    expect(wav.subarray(0, 4).toString()).toBe('RIFF')
    expect(wav.readUInt32LE(24)).toBe(24_000)
    expect(wav.readUInt32LE(40)).toBe(9600)
    expect(() => buffer.take()).toThrow('buffer only has 0.00ms of audio')
    // positions count on: 4800 samples were taken
    expect([buffer.start, buffer.end]).toEqual([4800, 4800])
  })

  it('commits a span, keeping what follows it', () => {
    const buffer = new InputAudioBuffer()
    buffer.add(Buffer.from(Int16Array.from([1, 2, 3, 4]).buffer))
    buffer.add(Buffer.from(Int16Array.from([5, 6]).buffer))
    const wav = buffer.takeSpan(1, 5)
    expect([...new Int16Array(wav.buffer.slice(wav.byteOffset + 44, wav.byteOffset + wav.length))]).toEqual([2, 3, 4, 5])
    expect([buffer.start, buffer.end]).toEqual([5, 6])
  })

  it('decodes base64 in slices that each decode alone', () => {
    const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256))
    for (const cut of [bytes, bytes.subarray(1), bytes.subarray(2)]) {
      const { text, bytes: size } = appendedAudio(cut.toString('base64'))
      expect(size).toBe(cut.length)
      const parts: Buffer[] = []
      for (let at = 0; at < text.length; at += 64) parts.push(base64Slice(text, at, 48))
      expect(Buffer.concat(parts).equals(cut)).toBe(true)
    }
  })

  it('refuses appends past 25 MiB unless told to drop the oldest audio, and an append without audio', () => {
    const buffer = new InputAudioBuffer()
    const big = Buffer.alloc(10 * 1024 * 1024)
    buffer.add(big)
    buffer.add(big)
    expect(() => buffer.reserve(big.length, false)).toThrow(expect.objectContaining({ code: 'input_audio_buffer_full' }))
    buffer.reserve(big.length, true)
    // 5 MiB dropped: 2.5 Mi samples
    expect(buffer.start).toBe(5 * 1024 * 1024 / 2)
    expect(() => appendedAudio(undefined)).toThrow(expect.objectContaining({ code: 'missing_required_parameter' }))
    expect(() => appendedAudio('A'.repeat(15 * 1024 * 1024 + 1))).toThrow(expect.objectContaining({ param: 'audio' }))
    buffer.clear()
    expect(() => buffer.take()).toThrow(expect.objectContaining({ code: 'input_audio_buffer_commit_empty' }))
  })
})
