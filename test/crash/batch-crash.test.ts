import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import OpenAI, { toFile } from 'openai'
import { afterAll, describe, expect, it } from 'vitest'

// Crash safety of Batches, with a real server process killed by SIGKILL in the middle of a batch:
// after a restart the batch finishes, each custom_id is in the output exactly once, and no File
// is ever served half-written.

const root = path.resolve(import.meta.dirname, '../..')
const entry = path.join(root, 'test/cli/run-cli.ts')
const KEY = 'sk-proj-batch-crash-000000000000000000000'
const LINES = 60
const dirs: string[] = []
const children: ChildProcess[] = []

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
})

type Server = { child: ChildProcess; client: OpenAI; exited: Promise<unknown> }

function startServer(dataDir: string, configFile: string): Promise<Server> {
  // node itself with tsx's loader, not the tsx CLI: that one runs the server in a child process,
  // which a SIGKILL to the CLI would leave running
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', entry, 'serve', '--port', '0', '--data-dir', dataDir],
    {
      cwd: root,
      env: {
        ...process.env,
        PLINTH_CONFIG: configFile,
        PLINTH_BOOTSTRAP_PROJECT_KEY: KEY,
        PLINTH_FILES_STALE_WRITE_SECONDS: '1',
        PLINTH_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
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
      resolve({
        child,
        exited,
        client: new OpenAI({ apiKey: KEY, baseURL: `${match[1]}/v1`, maxRetries: 0 }),
      })
    })
    exited.then((code) => reject(new Error(`exited with ${code}:\n${output}`)))
  })
}

async function kill(server: Server) {
  server.child.kill('SIGKILL')
  await server.exited
}

async function poll<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('SIGKILL in the middle of a batch', () => {
  it('after a restart the batch completes with each custom_id exactly once', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-batch-crash-'))
    dirs.push(dir)
    const dataDir = path.join(dir, 'data')
    // each line takes 150 ms, so the kill lands with some lines done and most still to run
    const script = path.join(dir, 'script.json')
    fs.writeFileSync(
      script,
      JSON.stringify({
        rules: [{ match: 'crash line', reply: { content: 'ran', delay_ms: 150 } }],
      }),
    )
    const configFile = path.join(dir, 'config.json')
    fs.writeFileSync(
      configFile,
      JSON.stringify({ testModels: { enabled: true, scriptFile: script } }),
    )

    let server = await startServer(dataDir, configFile)
    const ids = Array.from({ length: LINES }, (_, i) => `line-${i}`)
    const input = ids
      .map((custom_id) =>
        JSON.stringify({
          custom_id,
          method: 'POST',
          url: '/v1/chat/completions',
          body: {
            model: 'test-scripted',
            messages: [{ role: 'user', content: `crash line ${custom_id}` }],
          },
        }),
      )
      .join('\n')
    const file = await server.client.files.create({
      file: await toFile(Buffer.from(input), 'in.jsonl'),
      purpose: 'batch',
    })
    const batch = await server.client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    })
    const before = await poll(
      () => server.client.batches.retrieve(batch.id),
      (b) => b.request_counts!.completed >= 8 || !['validating', 'in_progress'].includes(b.status),
      'some lines to finish',
      20_000,
    )
    await kill(server)
    expect(before.status).toBe('in_progress')
    expect(before.request_counts!.completed).toBeLessThan(LINES)

    server = await startServer(dataDir, configFile)
    // the killed run's lease runs out (15 s), then the job resumes where the results stop
    const done = await poll(
      () => server.client.batches.retrieve(batch.id),
      (b) => b.status === 'completed' || b.status === 'failed',
      'the batch to complete after the restart',
      60_000,
    )
    expect(done.status).toBe('completed')
    expect(done.request_counts).toEqual({ total: LINES, completed: LINES, failed: 0 })
    const text = await (await server.client.files.content(done.output_file_id!)).text()
    const output = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(output.map((o) => o.custom_id)).toEqual(ids)
    expect(output.every((o) => o.response.status_code === 200)).toBe(true)
    // the input and the output: nothing else (no half-written file) is visible
    const files = (await server.client.files.list()).data.map((f) => f.id).sort()
    expect(files).toEqual([file.id, done.output_file_id!].sort())
    await kill(server)
  }, 120_000)
})
