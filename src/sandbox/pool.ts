import fs from 'node:fs/promises'
import type { CodeInterpreterConfig } from '../config/schema.js'
import { checkSandbox, describeMissing } from './capability.js'
import { sandboxArgv } from './command.js'
import { KernelProcess, type FontCache } from './kernel-process.js'
import { SandboxBusyError, SandboxUnavailableError, type Sandbox, type SandboxSession } from './sandbox.js'
import { buildSeccompFilter } from './seccomp.js'
import { PooledSession } from './session.js'

export type SandboxPoolOptions = {
  /** Called when a session's sandbox process starts (a new session, or one restarted after a kill). */
  onKernelStart?: (key: string) => void
}

// A failed capability check is redone after this long, so that installing what was missing
// needs no restart.
const RECHECK_MS = 60_000

/**
 * The bwrap engine: sessions by key, each with its own sandbox process. At most `maxSessions`
 * live at once; making room ends the least recently used idle one. A session unused for
 * `idleTimeoutMs` ends. Before the first session, the host is checked once (capability.ts):
 * nothing ever runs unsandboxed.
 */
export class SandboxPool implements Sandbox {
  /** In least recently used order (a Map keeps insertion order; a touch re-inserts). */
  private readonly sessions = new Map<string, PooledSession>()
  private readonly idleTimers = new Map<PooledSession, NodeJS.Timeout>()
  private fontCache: FontCache | undefined
  private source: Promise<string> | undefined
  private seccomp: Buffer | undefined
  private availability: { checked: number; error?: SandboxUnavailableError } | undefined
  private checking: Promise<void> | undefined
  private spares: Promise<KernelProcess>[] = []
  private sparesIdle: NodeJS.Timeout | undefined
  private closed = false

  constructor(
    private readonly config: CodeInterpreterConfig,
    private readonly options: SandboxPoolOptions = {},
  ) {}

  async session(key: string): Promise<SandboxSession> {
    if (!this.config.enabled) {
      throw new SandboxUnavailableError('The code interpreter is disabled on this server (codeInterpreter.enabled is false).')
    }
    await this.ensureAvailable()
    const existing = this.sessions.get(key)
    if (existing) {
      this.touched(existing)
      return existing
    }
    if (this.sessions.size >= this.config.maxSessions) {
      const idle = [...this.sessions.values()].find((session) => !session.busy)
      if (!idle) {
        throw new SandboxBusyError(
          `All ${this.config.maxSessions} code interpreter sessions are running code; try again shortly.`,
        )
      }
      await idle.close()
      const made = this.sessions.get(key)
      if (made) return made
    }
    const session = new PooledSession(key, {
      callTimeoutMs: this.config.callTimeoutMs,
      startKernel: () => this.startKernel(key),
      touched: (s) => this.touched(s),
      removed: (s) => this.removed(s),
    })
    this.sessions.set(key, session)
    this.armIdle(session)
    return session
  }

  /** Sessions alive now (for tests and the dashboard). */
  get size(): number {
    return this.sessions.size
  }

  async end(key: string): Promise<void> {
    await this.sessions.get(key)?.close()
  }

  async close(): Promise<void> {
    this.closed = true
    this.dropSpares()
    await Promise.all([...this.sessions.values()].map((session) => session.close()))
  }

  /** A session's process: a spare started ahead if one is ready, else a new one. */
  private async startKernel(key: string): Promise<KernelProcess> {
    let kernel: KernelProcess | undefined
    while (!kernel && this.spares.length > 0) {
      const spare = await this.spares.shift()!.catch(() => undefined)
      if (spare?.alive) kernel = spare
    }
    kernel ??= await this.spawnKernel()
    this.refillSpares()
    this.options.onKernelStart?.(key)
    return kernel
  }

  private refillSpares() {
    clearTimeout(this.sparesIdle)
    while (!this.closed && this.spares.length < this.config.spareKernels) {
      const spare = this.spawnKernel()
      spare.catch(() => {})
      this.spares.push(spare)
    }
    // Spares are for a server whose code interpreter is in use: they go when sessions stop starting.
    this.sparesIdle = setTimeout(() => this.dropSpares(), this.config.idleTimeoutMs)
    this.sparesIdle.unref()
  }

  private dropSpares() {
    clearTimeout(this.sparesIdle)
    for (const spare of this.spares.splice(0)) void spare.then((kernel) => kernel.kill(), () => {})
  }

  private async spawnKernel(): Promise<KernelProcess> {
    this.source ??= fs.readFile(new URL('./kernel.py', import.meta.url), 'utf8')
    this.seccomp ??= buildSeccompFilter()
    const asRoot = process.getuid?.() === 0
    const config = this.config
    const { kernel, fontCache } = await KernelProcess.start({
      argv: sandboxArgv(config, await this.source, asRoot),
      seccomp: this.seccomp,
      settings: {
        cpu_seconds: config.cpuSeconds,
        max_processes: config.maxProcesses,
        max_files: config.maxFiles,
        max_file_bytes: config.maxFileBytes,
      },
      fontCache: this.fontCache,
      maxOutputBytes: config.maxOutputBytes,
      startTimeoutMs: config.startTimeoutMs,
    })
    // Built by the kernel's own start, before any code ran in it, so it can be trusted.
    this.fontCache ??= fontCache
    return kernel
  }

  private async ensureAvailable(): Promise<void> {
    const known = this.availability
    if (known && (!known.error || Date.now() - known.checked < RECHECK_MS)) {
      if (known.error) throw known.error
      return
    }
    this.checking ??= checkSandbox(this.config)
      .then((report) => {
        const error = report.ok ? undefined : new SandboxUnavailableError(describeMissing(report))
        this.availability = { checked: Date.now(), error }
      })
      .finally(() => {
        this.checking = undefined
      })
    await this.checking
    if (this.availability?.error) throw this.availability.error
  }

  private touched(session: PooledSession) {
    if (this.sessions.get(session.key) !== session) return
    this.sessions.delete(session.key)
    this.sessions.set(session.key, session)
    this.armIdle(session)
  }

  private armIdle(session: PooledSession) {
    clearTimeout(this.idleTimers.get(session))
    if (session.busy) return this.idleTimers.delete(session)
    const timer = setTimeout(() => {
      if (!session.busy) void session.close()
    }, this.config.idleTimeoutMs)
    timer.unref()
    this.idleTimers.set(session, timer)
  }

  private removed(session: PooledSession) {
    clearTimeout(this.idleTimers.get(session))
    this.idleTimers.delete(session)
    if (this.sessions.get(session.key) === session) this.sessions.delete(session.key)
  }
}
