/**
 * Writes held to the end of the event loop's I/O batch while the process is busy.
 *
 * A write that makes data readable on a socket whose reader sleeps wakes that reader: on
 * loopback the kernel does it inside the writer's system call (about 20 µs a response in
 * `perf`, `sock_def_readable`). Under load, many answers complete in one poll phase; written as
 * each completes, every one of them can wake its client (or upstream) anew. Held to the check
 * phase (setImmediate), they leave back to back and the reader wakes once for the lot. When only
 * one request is in flight nothing is held: its answer goes out in its own turn, as before.
 */

/**
 * Requests being served now: the inference fast path counts each from its arrival until its
 * answer is written or its stream is under way (a long stream stops counting after its first
 * event, so a server streaming to a few clients writes each token in its own turn).
 */
let serving = 0
const held: (() => void)[] = []
let scheduled = false

export function enterRequest(): void {
  serving++
}

export function leaveRequest(): void {
  serving--
}

/** Whether another request is in flight beside the caller's: then writes are worth holding. */
export function busy(): boolean {
  return serving > 1
}

function release() {
  scheduled = false
  // callbacks held while this runs wait for the next batch
  const run = held.splice(0, held.length)
  for (const fn of run) fn()
}

/** Runs `fn` at the end of this I/O batch (setImmediate), with every other write held for it. */
export function atBatchEnd(fn: () => void): void {
  held.push(fn)
  if (!scheduled) {
    scheduled = true
    setImmediate(release)
  }
}

/** Resolves at the end of this I/O batch. */
export function batchEnd(): Promise<void> {
  return new Promise((resolve) => atBatchEnd(resolve))
}
