import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import type { Readable, Writable } from 'node:stream'
import { encodeFrame, FrameDecoder, FrameError } from './frames.js'
import { OutputCollector } from './output.js'
import { SECCOMP_FD } from './command.js'
import { SandboxStartError } from './sandbox.js'

export type KernelOptions = {
  argv: string[]
  seccomp: Buffer
  /** Sent to kernel.py's init (snake_case, as the kernel reads it). */
  settings: { cpu_seconds: number; max_processes: number; max_files: number; max_file_bytes: number }
  /** matplotlib's font list, built by an earlier session's start, so this one skips the scan. */
  fontCache?: FontCache
  maxOutputBytes: number
  startTimeoutMs: number
}

export type FontCache = { name: string; bytes: Buffer }

export type ExecFile = { name: string; kind: 'image' | 'file'; bytes: Buffer }

export type ExecReply = {
  outcome: 'ok' | 'error' | 'timeout' | 'killed' | 'cancelled'
  logs: string
  files: ExecFile[]
  skipped: { name: string; reason: string }[]
}

type Message = Record<string, unknown>
type Close = { code: number | null; signal: NodeJS.Signals | null }
type KillReason = 'timeout' | 'cancelled' | 'protocol' | 'start' | 'closed'

const MAX_JSON_FRAME = 1024 * 1024
const MAX_FONT_CACHE = 16 * 1024 * 1024
const KILL_GRACE_MS = 5000
const OVERFLOW_READ_PAUSE_MS = 5
// A kill by RLIMIT_CPU: bwrap reports a child's death by a signal as 128 + the signal.
const SIGXCPU = 24

/**
 * One sandboxed kernel.py process and its pipes. All I/O is asynchronous; replies are parsed as
 * untrusted, and a malformed one kills the process. Calls are one at a time (the session
 * serialises them).
 */
export class KernelProcess {
  private readonly child: ChildProcess
  private readonly decoder: FrameDecoder
  private readonly output: OutputCollector
  /** A JSON reply whose raw frame (a file's bytes) comes next. */
  private awaitingRaw: Message | undefined
  private onReply: ((message: Message, raw?: Buffer) => void) | undefined
  private onClose: ((close: Close) => void) | undefined
  private stderr = ''
  private killReason: KillReason | undefined
  private closed: Close | undefined

  private constructor(private readonly options: KernelOptions) {
    const [command, ...args] = options.argv
    // No host environment: bwrap clears it anyway, and its launchers need only PATH.
    this.child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
      detached: true,
      env: { PATH: '/usr/bin:/bin:/usr/sbin:/sbin' },
    })
    this.output = new OutputCollector(options.maxOutputBytes)
    this.decoder = new FrameDecoder(
      () => (this.awaitingRaw ? this.rawLimit(this.awaitingRaw) : MAX_JSON_FRAME),
      (frame) => this.frame(frame),
    )
    const seccomp = this.child.stdio[SECCOMP_FD] as Writable
    seccomp.on('error', () => {})
    seccomp.end(options.seccomp)
    const replies = this.child.stdio[3] as Readable
    replies.on('data', (chunk: Buffer) => {
      try {
        this.decoder.push(chunk)
      } catch (error) {
        this.protocolError(error as Error)
      }
    })
    const stdout = this.child.stdout!
    stdout.on('data', (chunk: Buffer) => {
      this.output.push(chunk)
      // Output past the cap is dropped anyway: reading it slowly (a chunk per few ms) keeps a
      // flood from costing this process its CPU, while the pipe still drains to the sentinel.
      if (this.output.overflowing && !stdout.isPaused()) {
        stdout.pause()
        setTimeout(() => stdout.resume(), OVERFLOW_READ_PAUSE_MS)
      }
    })
    this.child.stderr!.on('data', (chunk: Buffer) => {
      if (this.stderr.length < 8192) this.stderr += chunk.toString('utf8')
    })
    this.child.stdin!.on('error', () => {})
    this.child.on('error', (error) => {
      this.stderr += `${error.message}\n`
    })
    this.child.on('close', (code, signal) => {
      this.closed = { code, signal }
      this.onClose?.(this.closed)
    })
  }

  /** Starts the process and waits for the kernel to be ready (its imports done). */
  static start(options: KernelOptions): Promise<{ kernel: KernelProcess; fontCache?: FontCache }> {
    const kernel = new KernelProcess(options)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => kernel.kill('start'), options.startTimeoutMs)
      let ready: { fontCache?: FontCache } | undefined
      let quiet = false
      const done = () => {
        if (!ready || !quiet) return
        clearTimeout(timer)
        kernel.onReply = undefined
        kernel.onClose = undefined
        resolve({ kernel, ...ready })
      }
      // Import-time warnings (matplotlib building its font cache) end at this sentinel.
      const sentinel = newSentinel()
      kernel.output.expect(sentinel, () => {
        quiet = true
        done()
      })
      kernel.onReply = (message, raw) => {
        if (message.type !== 'ready') return kernel.protocolError(new Error(`unexpected ${message.type}`))
        const name = message.cache
        ready = typeof name === 'string' && raw ? { fontCache: { name, bytes: raw } } : {}
        done()
      }
      kernel.onClose = (close) => {
        clearTimeout(timer)
        const why =
          kernel.killReason === 'start'
            ? `it did not start within ${options.startTimeoutMs} ms`
            : `it exited (${describeClose(close)})`
        const detail = (kernel.stderr + kernel.output.take()).trim().slice(0, 2000)
        reject(new SandboxStartError(`The Python sandbox failed to start: ${why}${detail ? `: ${detail}` : ''}`))
      }
      const init = { op: 'init', sentinel, ...options.settings, cache: options.fontCache?.name ?? null }
      kernel.send(init, options.fontCache?.bytes)
    })
  }

  get alive(): boolean {
    return this.closed === undefined && this.killReason === undefined
  }

  /** Writes a file to /mnt/data/<name>. */
  put(name: string, bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.onReply = (message) => {
        this.onReply = undefined
        this.onClose = undefined
        if (message.type === 'put' && message.ok === true) return resolve()
        const reason = typeof message.error === 'string' ? message.error : 'unexpected reply'
        reject(new Error(`cannot place ${name} in /mnt/data: ${reason}`))
      }
      this.onClose = () => reject(new Error(`cannot place ${name} in /mnt/data: the sandbox exited`))
      this.send({ op: 'put', name }, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    })
  }

  /** Runs one cell, under the wall-clock limit; a kill is an outcome, never a rejection. */
  exec(code: string, timeoutMs: number, signal?: AbortSignal): Promise<ExecReply> {
    return new Promise((resolve) => {
      const files: ExecFile[] = []
      let result: Message | undefined
      let text: string | undefined
      const timer = setTimeout(() => this.kill('timeout'), timeoutMs)
      const abort = () => this.kill('cancelled')
      signal?.addEventListener('abort', abort, { once: true })
      const finish = (reply: ExecReply) => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', abort)
        this.onReply = undefined
        this.onClose = undefined
        resolve(reply)
      }
      const complete = () => {
        if (!result || text === undefined) return
        const skipped = parseSkipped(result.skipped)
        finish({ outcome: result.error === true ? 'error' : 'ok', logs: text, files, skipped })
      }
      const sentinel = newSentinel()
      this.output.expect(sentinel, (output) => {
        text = output
        complete()
      })
      this.onReply = (message, raw) => {
        if (message.type === 'file' && raw) {
          const name = message.name
          if (typeof name !== 'string' || !safeRelativePath(name)) {
            return this.protocolError(new Error('a file with an invalid name'))
          }
          files.push({ name, kind: message.kind === 'image' ? 'image' : 'file', bytes: raw })
        } else if (message.type === 'result') {
          result = message
          complete()
        } else {
          this.protocolError(new Error(`unexpected ${String(message.type)}`))
        }
      }
      this.onClose = (close) => {
        const reason = this.killReason
        const logs = joinLogs(text ?? this.output.take(), killNote(reason, close, timeoutMs, this.options))
        const outcome = reason === 'timeout' || reason === 'cancelled' ? reason : 'killed'
        finish({ outcome, logs, files: [], skipped: [] })
      }
      if (signal?.aborted) return abort()
      this.send({ op: 'exec', code, sentinel })
    })
  }

  /** Kills the whole sandbox: bwrap's process group; the pid namespace takes the rest with it. */
  kill(reason: KillReason = 'closed'): void {
    if (this.closed) return
    this.killReason ??= reason
    try {
      process.kill(-this.child.pid!, 'SIGKILL')
    } catch {
      this.child.kill('SIGKILL')
    }
    // A pipe held open past the kill must not leave the caller waiting.
    setTimeout(() => {
      if (!this.closed) {
        this.closed = { code: null, signal: 'SIGKILL' }
        this.onClose?.(this.closed)
      }
    }, KILL_GRACE_MS).unref()
  }

  private send(message: Message, raw?: Buffer) {
    const stdin = this.child.stdin!
    if (stdin.destroyed) return
    for (const part of encodeFrame(JSON.stringify(message))) stdin.write(part)
    if (raw) for (const part of encodeFrame(raw)) stdin.write(part)
  }

  private frame(frame: Buffer) {
    if (this.awaitingRaw) {
      const message = this.awaitingRaw
      this.awaitingRaw = undefined
      return this.onReply?.(message, frame)
    }
    let message: unknown
    try {
      message = JSON.parse(frame.toString('utf8'))
    } catch {
      throw new FrameError('the kernel sent a reply that is not JSON')
    }
    if (!message || typeof message !== 'object' || Array.isArray(message)) {
      throw new FrameError('the kernel sent a reply that is not an object')
    }
    const reply = message as Message
    if (reply.type === 'file' || (reply.type === 'ready' && typeof reply.cache === 'string')) {
      this.awaitingRaw = reply
      return
    }
    if (!this.onReply) throw new FrameError(`the kernel sent ${String(reply.type)} unasked`)
    this.onReply(reply)
  }

  private rawLimit(message: Message): number {
    return message.type === 'ready' ? MAX_FONT_CACHE : this.options.settings.max_file_bytes
  }

  private protocolError(error: Error) {
    this.stderr += `${error.message}\n`
    this.kill('protocol')
  }
}

function newSentinel(): string {
  return `<<plinth-cell-end:${randomBytes(12).toString('hex')}>>`
}

/** A relative path of plain segments, as kernel.py reports them. */
function safeRelativePath(name: string): boolean {
  if (name.length === 0 || name.length > 1024 || name.includes('\0')) return false
  return name.split('/').every((part) => part.length > 0 && part.length <= 255 && part !== '.' && part !== '..')
}

function parseSkipped(value: unknown): { name: string; reason: string }[] {
  if (!Array.isArray(value)) return []
  return value.slice(0, 1000).flatMap((entry) =>
    entry && typeof entry.name === 'string' && typeof entry.reason === 'string'
      ? [{ name: entry.name.slice(0, 1024), reason: entry.reason.slice(0, 200) }]
      : [],
  )
}

const LOST = 'The session restarts fresh on the next call: variables, imports and files in /mnt/data are lost.'

function killNote(reason: KillReason | undefined, close: Close, timeoutMs: number, options: KernelOptions): string {
  if (reason === 'timeout') return `Execution timed out after ${formatSeconds(timeoutMs)} s: the process was killed. ${LOST}`
  if (reason === 'cancelled') return `Execution was cancelled: the process was killed. ${LOST}`
  if (reason === 'protocol') return `The sandbox's kernel sent a malformed reply: the process was killed. ${LOST}`
  const signal = close.signal ?? (close.code !== null && close.code > 128 ? close.code - 128 : undefined)
  if (signal === 'SIGXCPU' || signal === SIGXCPU) {
    return `The process was killed: the session's CPU time limit (${options.settings.cpu_seconds} s per call) was exceeded. ${LOST}`
  }
  if (signal === 'SIGKILL' || signal === 9) {
    return `The process was killed (SIGKILL): memory limit or another resource limit. ${LOST}`
  }
  return `The process ended unexpectedly (${describeClose(close)}). ${LOST}`
}

function describeClose(close: Close): string {
  if (close.signal) return `signal ${close.signal}`
  if (close.code !== null && close.code > 128) return `signal ${close.code - 128}`
  return `exit code ${close.code}`
}

function formatSeconds(ms: number): string {
  return String(Math.round(ms / 100) / 10)
}

function joinLogs(logs: string, note: string): string {
  return logs.length > 0 && !logs.endsWith('\n') ? `${logs}\n${note}` : `${logs}${note}`
}
