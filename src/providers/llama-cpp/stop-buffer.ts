export type Piece<T> = { text: string; data: T }

/**
 * Streams text while watching for stop sequences. Text that could be the start of a stop
 * sequence is held back until the next piece shows whether it is one, so a stop sequence never
 * reaches the client, not even in part. Pieces are emitted whole (one piece is one or a few
 * tokens, with their logprobs), except the one a stop sequence cuts.
 */
export class StopBuffer<T> {
  private pending: Piece<T>[] = []
  private readonly stops: string[]

  constructor(stops: readonly string[]) {
    this.stops = stops.filter((s) => s.length > 0)
  }

  /** Whether there is any stop sequence to watch for (without one, every piece passes at once). */
  get watching(): boolean {
    return this.stops.length > 0
  }

  /**
   * The pieces now safe to emit; `matched` is the stop sequence reached, if one was (the pieces
   * then end before it, and nothing more is emitted).
   */
  push(piece: Piece<T>): { emit: Piece<T>[]; stopped: boolean; matched?: string } {
    this.pending.push(piece)
    if (!this.stops.length) return { emit: this.pending.splice(0), stopped: false }
    const text = this.pending.map((p) => p.text).join('')
    let cut = -1
    let matched: string | undefined
    for (const stop of this.stops) {
      const at = text.indexOf(stop)
      if (at >= 0 && (cut < 0 || at < cut)) {
        cut = at
        matched = stop
      }
    }
    if (cut >= 0) return { emit: this.take(cut, true), stopped: true, matched }
    return { emit: this.take(text.length - this.heldBack(text), false), stopped: false }
  }

  /** Whatever is still held when generation ends without a stop sequence. */
  flush(): Piece<T>[] {
    return this.pending.splice(0)
  }

  /** Length of the longest end of `text` that begins some stop sequence. */
  private heldBack(text: string): number {
    let hold = 0
    for (const stop of this.stops) {
      for (let k = Math.min(stop.length - 1, text.length); k > hold; k--) {
        if (text.endsWith(stop.slice(0, k))) {
          hold = k
          break
        }
      }
    }
    return hold
  }

  /** Takes the pieces within the first `length` characters; `cutInside` splits the last one there. */
  private take(length: number, cutInside: boolean): Piece<T>[] {
    const out: Piece<T>[] = []
    let at = 0
    while (this.pending.length) {
      const next = this.pending[0]
      if (at + next.text.length <= length) {
        out.push(this.pending.shift()!)
        at += next.text.length
        continue
      }
      if (cutInside && at < length)
        out.push({ text: next.text.slice(0, length - at), data: next.data })
      break
    }
    if (cutInside) this.pending = []
    return out
  }
}
