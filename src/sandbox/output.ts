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
    const sentinel = this.sentinel
    if (!sentinel) return this.keep(chunk)
    // Positions count from the start of tail + chunk; only the seam between them is copied, so
    // a flood of output costs a search per chunk, not a copy.
    let at = -1
    if (this.tail.length > 0) {
      const seam = Buffer.concat([this.tail, chunk.subarray(0, sentinel.length - 1)])
      at = seam.indexOf(sentinel)
    }
    if (at < 0) {
      const inChunk = chunk.indexOf(sentinel)
      if (inChunk >= 0) at = this.tail.length + inChunk
    }
    if (at < 0) {
      this.keep(chunk)
      const keepBytes = sentinel.length - 1
      this.tail =
        chunk.length >= keepBytes
          ? Buffer.from(chunk.subarray(chunk.length - keepBytes))
          : Buffer.concat([this.tail, chunk]).subarray(-keepBytes)
      return
    }
    const offset = at - this.tail.length
    if (offset > 0) this.keep(chunk.subarray(0, offset))
    if (offset < 0) this.unkeep(-offset)
    const after = chunk.subarray(offset + sentinel.length)
    const done = this.onSentinel!
    const text = this.take()
    this.sentinel = undefined
    this.onSentinel = undefined
    this.tail = Buffer.alloc(0)
    done(text)
    if (after.length > 0) this.push(after)
  }

  /** Past the cap: what comes now is only scanned for the sentinel, then dropped. */
  get overflowing(): boolean {
    return this.droppedBytes > 0
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
