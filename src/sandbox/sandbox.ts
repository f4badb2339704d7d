/** A file the code wrote (or changed) under /mnt/data during one call. */
export type SandboxFile = {
  /** Path relative to /mnt/data (`chart.png`, `out/summary.csv`). */
  name: string
  /** The path as the code sees it: `/mnt/data/<name>`. */
  path: string
  bytes: Buffer
  /** From the extension; `application/octet-stream` when unknown. */
  mimeType: string
  /** `image`: a matplotlib figure the code showed (or left open); `file`: anything else written. */
  kind: 'image' | 'file'
}

/**
 * How a call ended. `error`: the code raised (the traceback is in the logs, the state is kept).
 * `timeout`, `killed` (a limit, or the process died) and `cancelled` (the caller's signal): the
 * sandbox process is gone, and the session's next call starts fresh.
 */
export type SandboxOutcome = 'ok' | 'error' | 'timeout' | 'killed' | 'cancelled'

export type SandboxResult = {
  outcome: SandboxOutcome
  /**
   * What the model sees: stdout and stderr in order, the traceback of an exception, and notes
   * from Plinth (a kill and its reason, lost state, files skipped by the caps).
   */
  logs: string
  files: SandboxFile[]
  /** The sandbox process of this call was started fresh for it (the state before it was lost). */
  coldStart: boolean
  durationMs: number
}

/**
 * One notebook-like Python session: variables, imports and files in /mnt/data persist between
 * calls until it is closed, idles out, or a call is killed.
 */
export interface SandboxSession {
  readonly key: string
  /**
   * Places a file at /mnt/data/<name> (one path segment). A file already placed with the same
   * bytes in the current process is not sent again, so callers may place a run's files before
   * every call; after a restart they are placed anew. `bytes` may be a loader, called only when
   * the file is to be sent.
   */
  putFile(name: string, bytes: Uint8Array | (() => Promise<Uint8Array>), version?: string): Promise<void>
  /**
   * The current process holds `version` of /mnt/data/<name> already (the code wrote it): a
   * `putFile` of that version sends nothing. A no-op when no process is alive.
   */
  markPlaced?(name: string, version: string): void
  /** Runs one cell. Never rejects for anything the code does; rejects if the sandbox cannot start. */
  run(code: string, options?: { signal?: AbortSignal }): Promise<SandboxResult>
  /** Ends the session and its process. */
  close(): Promise<void>
}

/** The code interpreter's engine, as the domain sees it (src/sandbox/pool.ts is the bwrap one). */
export interface Sandbox {
  /**
   * The session for `key` (a thread, say), made on first use. Rejects with
   * `SandboxUnavailableError` when the host cannot sandbox, and with `SandboxBusyError` when
   * every session slot is running code.
   */
  session(key: string): Promise<SandboxSession>
  /** Ends the session of `key` if there is one (a container deleted or expired). */
  end?(key: string): Promise<void>
  /** Ends every session. */
  close(): Promise<void>
}

/** The host cannot run the sandbox; the message names what to install. Never run unsandboxed. */
export class SandboxUnavailableError extends Error {
  override name = 'SandboxUnavailableError'
}

export class SandboxBusyError extends Error {
  override name = 'SandboxBusyError'
}

/** A session's process failed to start (a startup crash, or slower than `startTimeoutMs`). */
export class SandboxStartError extends Error {
  override name = 'SandboxStartError'
}
