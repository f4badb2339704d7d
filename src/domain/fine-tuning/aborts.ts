/**
 * The signals of the jobs this process is running, so a cancel stops training at once (the
 * trainer checks its signal between steps) instead of at the runner's next heartbeat, which is
 * how other nodes see it. A pause likewise (other nodes read the job's status between steps).
 */
export class LocalAborts {
  private readonly running = new Map<string, AbortController>()
  private readonly pauses = new Map<string, AbortController>()

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

  /** A training's pause controller, so a pause made here stops it at once; call the result when it ends. */
  trackPause(id: string, controller: AbortController): () => void {
    this.pauses.set(id, controller)
    return () => {
      if (this.pauses.get(id) === controller) this.pauses.delete(id)
    }
  }

  pause(id: string) {
    this.pauses.get(id)?.abort()
  }

  abort(id: string) {
    this.running.get(id)?.abort(new Error('the fine-tuning job was cancelled'))
  }
}
