import type { KernelProcess, ExecReply } from './kernel-process.js'
import { mimeTypeOf } from './mime.js'
import type { SandboxResult, SandboxSession } from './sandbox.js'

/** What a session needs from its pool. */
export type SessionHost = {
  callTimeoutMs: number
  startKernel(): Promise<KernelProcess>
  /** A call is about to run or has ended: the pool's LRU order and idle timer. */
  touched(session: PooledSession): void
  removed(session: PooledSession): void
}

/** A name /mnt/data/<name> can take: one path segment. */
export function validFileName(name: string): boolean {
  return (
    name.length > 0 && name.length <= 255 && !name.includes('/') && !name.includes('\0') && name !== '.' && name !== '..'
  )
}

/**
 * One session of the pool: at most one sandbox process at a time, started on first use and again
 * after a call killed it. Calls and file placements run one after another, in order.
 */
export class PooledSession implements SandboxSession {
  private kernel: KernelProcess | undefined
  /** Files placed in the current process: a restart starts with an empty /mnt/data. */
  private placed = new Map<string, string | undefined>()
  private queue: Promise<unknown> = Promise.resolve()
  private pending = 0
  private ended = false

  constructor(
    readonly key: string,
    private readonly host: SessionHost,
  ) {}

  /** A call or placement is running or waiting. */
  get busy(): boolean {
    return this.pending > 0
  }

  putFile(name: string, bytes: Uint8Array | (() => Promise<Uint8Array>), version?: string): Promise<void> {
    if (!validFileName(name)) return Promise.reject(new Error(`invalid file name for /mnt/data: ${JSON.stringify(name)}`))
    return this.serial(async () => {
      const { kernel } = await this.ensureKernel()
      if (this.placed.has(name) && this.placed.get(name) === version) return
      await kernel.put(name, typeof bytes === 'function' ? await bytes() : bytes)
      this.placed.set(name, version)
    })
  }

  markPlaced(name: string, version: string): void {
    if (this.kernel?.alive && validFileName(name)) this.placed.set(name, version)
  }

  run(code: string, options: { signal?: AbortSignal } = {}): Promise<SandboxResult> {
    return this.serial(async () => {
      const started = performance.now()
      const { kernel, cold } = await this.ensureKernel()
      const reply = await kernel.exec(code, this.host.callTimeoutMs, options.signal)
      if (!kernel.alive) this.dropKernel()
      return toResult(reply, cold, performance.now() - started)
    })
  }

  async close(): Promise<void> {
    if (this.ended) return
    this.ended = true
    this.dropKernel()
    this.host.removed(this)
  }

  private async ensureKernel(): Promise<{ kernel: KernelProcess; cold: boolean }> {
    if (this.ended) throw new Error('this code interpreter session has ended')
    if (this.kernel?.alive) return { kernel: this.kernel, cold: false }
    this.dropKernel()
    const kernel = await this.host.startKernel()
    if (this.ended) {
      kernel.kill()
      throw new Error('this code interpreter session has ended')
    }
    this.kernel = kernel
    return { kernel, cold: true }
  }

  private dropKernel() {
    this.kernel?.kill()
    this.kernel = undefined
    this.placed.clear()
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    this.pending++
    this.host.touched(this)
    const next = this.queue.then(task)
    const settle = () => {
      this.pending--
      this.host.touched(this)
    }
    this.queue = next.then(settle, settle)
    return next
  }
}

function toResult(reply: ExecReply, coldStart: boolean, durationMs: number): SandboxResult {
  const notes = reply.skipped.map((s) => `[/mnt/data/${s.name} was not returned: ${s.reason}]`)
  let logs = reply.logs
  if (notes.length > 0) logs += `${logs && !logs.endsWith('\n') ? '\n' : ''}${notes.join('\n')}`
  return {
    outcome: reply.outcome,
    logs,
    files: reply.files.map((file) => ({
      name: file.name,
      path: `/mnt/data/${file.name}`,
      bytes: file.bytes,
      mimeType: mimeTypeOf(file.name),
      kind: file.kind,
    })),
    coldStart,
    durationMs,
  }
}
