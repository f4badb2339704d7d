/**
 * The signals of the jobs this process is running, so a cancel stops training at once (the
 * trainer checks its signal between steps) instead of at the runner's next heartbeat, which is
 * how other nodes see it.
 */
export class LocalAborts {
  private readonly running = new Map<string, AbortController>()

  /** A signal aborted with the runner's, or by `abort(id)`; call `release` when the run ends. */
  track(id: string, signal: AbortSignal): { signal: AbortSignal; release(): void } {
    const controller = new AbortController()
    const follow = () => controller.abort(signal.reason)
    if (signal.aborted) follow()
    else signal.addEventListener('abort', follow, { once: true })
    this.running.set(id, controller)
    return {
      signal: controller.signal,
      release: () => {
        signal.removeEventListener('abort', follow)
        if (this.running.get(id) === controller) this.running.delete(id)
      },
    }
  }

  abort(id: string) {
    this.running.get(id)?.abort(new Error('the fine-tuning job was cancelled'))
  }
}
