/**
 * An event stream that runs to its end whoever reads it: a stored response is completed and
 * saved even when its client goes away mid-stream, as OpenAI's are. The source is pulled from the
 * first `next()` on (so a failure before the first event is that call's), and its events wait in
 * a queue for the reader; once the reader has gone (`return()`), they are dropped.
 */
export function detached<T>(source: AsyncIterable<T>): AsyncIterable<T> {
  const iterator = source[Symbol.asyncIterator]()
  const queue: IteratorResult<T>[] = []
  let failure: { error: unknown } | null = null
  let wake: (() => void) | null = null
  let started = false
  let abandoned = false
  const notify = () => {
    const resolve = wake
    wake = null
    resolve?.()
  }
  async function pump() {
    try {
      for (;;) {
        const next = await iterator.next()
        if (!abandoned) queue.push(next)
        notify()
        if (next.done) return
      }
    } catch (error) {
      failure = { error }
      notify()
    }
  }
  const reader: AsyncIterator<T> = {
    async next() {
      if (!started) {
        started = true
        void pump()
      }
      while (!queue.length && !failure) await new Promise<void>((resolve) => (wake = resolve))
      if (queue.length) return queue.shift()!
      throw failure!.error
    },
    async return() {
      abandoned = true
      queue.length = 0
      return { done: true, value: undefined }
    },
  }
  return { [Symbol.asyncIterator]: () => reader }
}
