import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'
import { afterAll, describe, expect, it } from 'vitest'

// Crash safety of runs: a real server is killed by SIGKILL while the model writes a run's reply.
// After a restart the job runner takes the run over (its lease expired) and the run ends,
// completed or failed, never stuck in_progress; the thread holds one assistant message.

const root = path.resolve(import.meta.dirname, '../..')
const entry = path.join(root, 'test/cli/run-cli.ts')
const KEY = 'sk-proj-run-crash-00000000000000000000000'
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

describe('SIGKILL in the middle of a run', () => {
  it('after a restart the run ends, with one reply', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-run-crash-'))
    dirs.push(dir)
    const dataDir = path.join(dir, 'data')
    // 26 chunks, 100 ms apart: the kill lands mid-reply
    const script = path.join(dir, 'script.json')
    fs.writeFileSync(
      script,
      JSON.stringify({
        rules: [
          {
            match: 'slow reply',
            reply: { content: 'a b c d e f g h i j k l m n o p q r s t u v w x y z', chunk_delay_ms: 100 },
          },
        ],
      }),
    )
    const configFile = path.join(dir, 'config.json')
    fs.writeFileSync(configFile, JSON.stringify({ testModels: { enabled: true, scriptFile: script } }))

    let server = await startServer(dataDir, configFile)
    const assistant = await server.client.beta.assistants.create({ model: 'test-scripted' })
    const thread = await server.client.beta.threads.create({
      messages: [{ role: 'user', content: 'a slow reply please' }],
    })
    const run = await server.client.beta.threads.runs.create(thread.id, {
      assistant_id: assistant.id,
    })
    await poll(
      () => server.client.beta.threads.messages.list(thread.id, { run_id: run.id }),
      (page) => page.data.length > 0,
      'the reply to start',
      10_000,
    )
    await new Promise((r) => setTimeout(r, 300))
    await kill(server)

    server = await startServer(dataDir, configFile)
    const ended = await poll(
      () => server.client.beta.threads.runs.retrieve(run.id, { thread_id: thread.id }),
      (r) => !['queued', 'in_progress', 'cancelling'].includes(r.status),
      'the run to end',
      45_000,
    )
    expect(['completed', 'failed']).toContain(ended.status)
    const messages = await server.client.beta.threads.messages.list(thread.id, { run_id: run.id })
    if (ended.status === 'completed') {
      expect(messages.data).toHaveLength(1)
      expect(messages.data[0].status).toBe('completed')
      expect(messages.data[0].content[0]).toMatchObject({
        text: { value: 'a b c d e f g h i j k l m n o p q r s t u v w x y z' },
      })
    }
    // the thread is free again
    await server.client.beta.threads.messages.create(thread.id, { role: 'user', content: 'next' })
    await kill(server)
  }, 90_000)
})
