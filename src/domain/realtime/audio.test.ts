import { describe, expect, it } from 'vitest'
import { InputAudioBuffer } from './audio.js'

describe('the input audio buffer', () => {
  it('commits as a 24 kHz pcm16 WAV file and empties', () => {
    const buffer = new InputAudioBuffer()
    buffer.append(Buffer.alloc(4800, 1).toString('base64'))
    buffer.append(Buffer.alloc(4801, 1).toString('base64'))
    const wav = buffer.take()
    expect(wav.subarray(0, 4).toString()).toBe('RIFF')
    expect(wav.readUInt32LE(24)).toBe(24_000)
    // an odd byte is no sample: cut
    expect(wav.readUInt32LE(40)).toBe(9600)
    expect(() => buffer.take()).toThrow('buffer only has 0.00ms of audio')
  })

  it('refuses appends past 25 MiB, and one without audio', () => {
    const buffer = new InputAudioBuffer()
    const big = Buffer.alloc(10 * 1024 * 1024).toString('base64')
    buffer.append(big)
    buffer.append(big)
    expect(() => buffer.append(big)).toThrow(expect.objectContaining({ code: 'input_audio_buffer_full' }))
    expect(() => buffer.append(undefined)).toThrow(expect.objectContaining({ code: 'missing_required_parameter' }))
    buffer.clear()
    expect(() => buffer.take()).toThrow(expect.objectContaining({ code: 'input_audio_buffer_commit_empty' }))
  })
})
