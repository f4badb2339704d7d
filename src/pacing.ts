import { setImmediate as nextTurn } from 'node:timers/promises'

/**
 * No request may hold the event loop for more than 50 ms (docs/architecture.md, "Event loop").
 * Long loops (tokenizing, echoing, batch lines, big answers) call `pace()` between units of
 * work: once `sliceMs` has passed since the last yield, it waits for a setImmediate turn, so
 * timers, sockets and other requests run in between. Awaiting a resolved promise is not enough:
 * microtasks all run before the loop takes the next event.
 */
export class Pacer {
  private since = performance.now()

  constructor(private readonly sliceMs = 4) {}

  /** True when the slice is used up: the caller may cut its work at a convenient point. */
  due(): boolean {
    return performance.now() - this.since >= this.sliceMs
  }

  async pace(signal?: AbortSignal): Promise<void> {
    if (!this.due()) return
    await nextTurn()
    signal?.throwIfAborted()
    this.since = performance.now()
  }
}

/** One turn of the event loop: lets pending I/O and timers run. */
export function yieldToLoop(): Promise<void> {
  return nextTurn()
}
