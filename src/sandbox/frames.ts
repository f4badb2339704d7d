/**
 * The kernel's wire format (kernel.py): frames of a 4-byte big-endian length and a payload. A
 * reply is untrusted (the code in the sandbox can write to the same pipe), so every frame's size
 * is capped before it is buffered, and a bad frame is an error, never a crash.
 */

export class FrameError extends Error {
  override name = 'FrameError'
}

export function encodeFrame(payload: Buffer | string): Buffer[] {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload
  const header = Buffer.alloc(4)
  header.writeUInt32BE(body.length)
  return [header, body]
}

/**
 * Splits a byte stream into frames. Chunks are kept as they came and joined once per frame, so
 * a large file costs one copy. `maxFrameBytes` is asked for each frame as it starts, so the
 * caller can allow a large raw frame only where one is expected.
 */
export class FrameDecoder {
  private chunks: Buffer[] = []
  private buffered = 0
  private expected = -1

  constructor(
    private readonly maxFrameBytes: () => number,
    private readonly onFrame: (frame: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.buffered += chunk.length
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < 4) return
        const head = this.take(4)
        this.expected = head.readUInt32BE(0)
        const max = this.maxFrameBytes()
        if (this.expected > max) {
          throw new FrameError(`the kernel sent a frame of ${this.expected} bytes (at most ${max} expected)`)
        }
      }
      if (this.buffered < this.expected) return
      const frame = this.take(this.expected)
      this.expected = -1
      this.onFrame(frame)
    }
  }

  private take(n: number): Buffer {
    const joined = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered)
    const out = joined.subarray(0, n)
    const rest = joined.subarray(n)
    this.chunks = rest.length > 0 ? [rest] : []
    this.buffered = rest.length
    return out
  }
}
