import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'

const root = path.resolve(import.meta.dirname, '../..')
const entry = path.join(root, 'test/cli/run-cli.ts')

export type ServerProcess = {
  child: ChildProcess
  url: string
  client: OpenAI
  exited: Promise<unknown>
  /** what the process printed so far (its log), to show when a test fails */
  output(): string
}

/**
 * Real Plinth server processes for crash tests: started from the sources, killed with SIGKILL,
 * restarted on the same data directory. `cleanup()` (in afterAll) kills what is left and removes
 * the directories made with `dataDir()`.
 */
export function serverProcesses(key: string) {
  const children: ChildProcess[] = []
  const dirs: string[] = []
  return {
    dataDir(prefix = 'plinth-crash-'): string {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
      dirs.push(dir)
      return dir
    },

    start(dataDir: string, env: Record<string, string> = {}): Promise<ServerProcess> {
      // node itself with tsx's loader, not the tsx CLI: that one runs the server in a child
      // process, which a SIGKILL to the CLI would leave running
      const child = spawn(process.execPath, ['--import', 'tsx', entry, 'serve', '--port', '0', '--data-dir', dataDir], {
        cwd: root,
        env: { ...process.env, PLINTH_BOOTSTRAP_PROJECT_KEY: key, PLINTH_LOG_LEVEL: 'info', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      children.push(child)
      let output = ''
      child.stdout!.on('data', (d) => (output += d))
      child.stderr!.on('data', (d) => (output += d))
      const exited = new Promise((resolve) => child.on('exit', resolve))
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ready line in 30 s:\n${output}`)), 30_000)
        child.stdout!.on('data', () => {
          const match = /Plinth ready on (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(output)
          if (!match) return
          clearTimeout(timer)
          const url = match[1]
          const client = new OpenAI({ apiKey: key, baseURL: `${url}/v1`, maxRetries: 0 })
          resolve({ child, url, exited, client, output: () => output })
        })
        exited.then((code) => reject(new Error(`exited with ${code}:\n${output}`)))
      })
    },

    async kill(server: ServerProcess) {
      server.child.kill('SIGKILL')
      await server.exited
    },

    cleanup() {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
      for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Reads until `done` holds, every 50 ms, failing with the last value after `timeoutMs`. */
export async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
