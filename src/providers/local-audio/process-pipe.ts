import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

/** Where Debian puts the engines; PATH is searched first. */
const FALLBACK_DIRS = ['/usr/bin', '/bin', '/usr/local/bin']

const found = new Map<string, string | null>()

/**
 * The absolute path of an executable, or null when this host lacks it. Cached: the engines are
 * installed or not for the life of the process, and looking each request up would stat the PATH.
 */
export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  if (found.has(name)) return found.get(name)!
  const dirs = [...(env.PATH ?? '').split(path.delimiter).filter(Boolean), ...FALLBACK_DIRS]
  let hit: string | null = null
  for (const dir of dirs) {
    const candidate = path.join(dir, name)
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      hit = candidate
      break
    } catch {
      // not here
    }
  }
  found.set(name, hit)
  return hit
}

/** A child process that exited badly: its code and the tail of what it printed on stderr. */
export class ProcessFailed extends Error {
  override name = 'ProcessFailed'
  constructor(
    readonly command: string,
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`${path.basename(command)} exited with ${code ?? 'a signal'}: ${stderr.trim().slice(-500)}`)
  }
}

export type PipeOptions = {
  /** Bytes written to stdin (then closed); none: stdin is closed at once. */
  input?: Uint8Array | AsyncIterable<Uint8Array>
  signal?: AbortSignal
}

const STDERR_KEEP = 4096

/**
 * Runs `command args`, feeding `input` to stdin, and yields stdout as it comes. The child is
 * killed (SIGKILL) when the signal aborts, when the consumer stops reading early, or when the
 * input fails, so no encoder outlives the request that started it; a non-zero exit throws
 * ProcessFailed after the last chunk.
 */
export async function* pipeProcess(command: string, args: string[], options: PipeOptions = {}): AsyncGenerator<Buffer> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } })
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_KEEP)
  })
  const exited = new Promise<number | null>((resolve, reject) => {
    // on, not once: a second 'error' (a failed kill) with no listener would end the process
    child.on('error', reject)
    child.once('close', (code) => resolve(code))
  })
  // an unread rejection would crash the process if the consumer stops before awaiting it
  exited.catch(() => undefined)
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  options.signal?.addEventListener('abort', kill, { once: true })
  // EPIPE when the child exits before reading all its input: the exit code tells what happened
  child.stdin.on('error', () => undefined)
  const feeding = feed(child.stdin, options.input).catch((error: unknown) => {
    kill()
    throw error
  })
  feeding.catch(() => undefined)
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) yield chunk
    const code = await exited
    await feeding
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted')
    if (code !== 0) throw new ProcessFailed(command, code, stderr)
  } finally {
    kill()
    options.signal?.removeEventListener('abort', kill)
  }
}

/** Runs a process to the end and returns all of stdout. */
export async function runProcess(command: string, args: string[], options: PipeOptions = {}): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of pipeProcess(command, args, options)) chunks.push(chunk)
  return Buffer.concat(chunks)
}

async function feed(stdin: NodeJS.WritableStream, input: PipeOptions['input']) {
  if (!input) return void stdin.end()
  if (input instanceof Uint8Array) return void stdin.end(input)
  for await (const chunk of input) {
    if (!stdin.write(chunk)) await new Promise<void>((resolve) => stdin.once('drain', () => resolve()))
  }
  stdin.end()
}
