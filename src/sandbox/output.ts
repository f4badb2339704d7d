/**
 * Collects the sandbox's stdout+stderr stream, bounded. A call's output ends where the kernel
 * wrote that call's sentinel: bytes after it (from a background process, say) open the next
 * call's output. Past `maxBytes` bytes are counted and dropped, but the stream is still read
 * (and scanned for the sentinel), so the sandbox never blocks on a full pipe.
 */
export class OutputCollector {
  private kept: Buffer[] = []
  private keptBytes = 0
  private droppedBytes = 0
  /** The last bytes seen, to find a sentinel split across two chunks. */
  private tail = Buffer.alloc(0)
  private sentinel: Buffer | undefined
  private onSentinel: ((text: string) => void) | undefined

  constructor(private readonly maxBytes: number) {}

  /** Waits for `sentinel` in the stream; resolves with the output before it. */
  expect(sentinel: string, onSentinel: (text: string) => void): void {
    this.sentinel = Buffer.from(sentinel)
    this.onSentinel = onSentinel
  }

  push(chunk: Buffer): void {
    if (!this.sentinel) return this.keep(chunk)
    const window = Buffer.concat([this.tail, chunk])
    const at = window.indexOf(this.sentinel)
    if (at < 0) {
      this.keep(chunk)
      this.tail = window.subarray(Math.max(0, window.length - this.sentinel.length + 1))
      return
    }
    // The part of the window before the sentinel that is not yet kept (the tail already was).
    const before = window.subarray(this.tail.length, Math.max(this.tail.length, at))
    this.keep(before)
    const overshoot = this.tail.length - at
    if (overshoot > 0) this.unkeep(overshoot)
    const after = window.subarray(at + this.sentinel.length)
    const done = this.onSentinel!
    const text = this.take()
    this.sentinel = undefined
    this.onSentinel = undefined
    this.tail = Buffer.alloc(0)
    done(text)
    if (after.length > 0) this.push(after)
  }

  /** The output so far, as text, and a fresh start (used when the sandbox died mid-call). */
  take(): string {
    let text = Buffer.concat(this.kept, this.keptBytes).toString('utf8')
    if (this.droppedBytes > 0) text += `\n[output truncated: ${this.droppedBytes} more bytes]`
    this.kept = []
    this.keptBytes = 0
    this.droppedBytes = 0
    return text
  }

  private keep(chunk: Buffer) {
    const room = this.maxBytes - this.keptBytes
    if (room > 0) {
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk
      this.kept.push(Buffer.from(part))
      this.keptBytes += part.length
    }
    this.droppedBytes += Math.max(0, chunk.length - Math.max(0, room))
  }

  /** Takes back the last `n` bytes: the start of a sentinel kept before it was recognised. */
  private unkeep(n: number) {
    if (this.droppedBytes >= n) {
      this.droppedBytes -= n
      return
    }
    n -= this.droppedBytes
    this.droppedBytes = 0
    const all = Buffer.concat(this.kept, this.keptBytes)
    this.kept = [all.subarray(0, all.length - n)]
    this.keptBytes -= n
  }
}
