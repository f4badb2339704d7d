import { describe, expect, it } from 'vitest'
import { encodeFrame, FrameDecoder, FrameError } from './frames.js'

describe('FrameDecoder', () => {
  it('splits frames however the bytes are chunked', () => {
    const wire = Buffer.concat([...encodeFrame('{"a":1}'), ...encodeFrame(Buffer.alloc(0)), ...encodeFrame('xyz')])
    for (const size of [1, 2, 3, 5, wire.length]) {
      const frames: string[] = []
      const decoder = new FrameDecoder(() => 100, (frame) => frames.push(frame.toString()))
      for (let i = 0; i < wire.length; i += size) decoder.push(wire.subarray(i, i + size))
      expect(frames).toEqual(['{"a":1}', '', 'xyz'])
    }
  })

  it('refuses a frame larger than the limit asked for as it starts', () => {
    let limit = 10
    const frames: number[] = []
    const decoder = new FrameDecoder(() => limit, (frame) => frames.push(frame.length))
    decoder.push(Buffer.concat(encodeFrame(Buffer.alloc(10))))
    expect(frames).toEqual([10])
    limit = 4
    expect(() => decoder.push(Buffer.from([0xff, 0xff, 0xff, 0xff]))).toThrow(FrameError)
  })
})
