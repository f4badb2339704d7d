import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.js'
import { parseConfig } from '../../src/config/load.js'
import { createContext, type AppContext } from '../../src/context.js'
import { RunExecutor } from '../../src/domain/assistants/run-executor.js'
import { createToolRegistry } from '../../src/domain/tools/index.js'
import type { Sandbox, SandboxSession } from '../../src/sandbox/index.js'
import { BatchRun } from '../../src/domain/batches/run.js'
import { createRepos } from '../../src/storage/repositories/index.js'
import { openStorage, type Storage } from '../../src/storage/storage.js'
import { storageCases } from '../helpers/pg.js'
import { SCRIPT_FILE } from '../helpers/test-context.js'

// A saved result is billed exactly once (issue 11): a batch line's usage row and a run turn's
// are written in the transaction that saves the line's result or moves the run on. Here the
// process "dies" exactly in that transaction (it throws before its commit, and nothing after
// it is written), and the work is then taken over as after a restart: nothing of the dead
// transaction is left, neither the result nor the row, and the re-run bills each line and turn
// once. With usage recorded apart from the result, the dead transaction's rows would remain
// and the re-run would bill them again. On every dialect.

const ADMIN_KEY = 'sk-admin-exactly-once-00000000000000000'
const PROJECT_KEY = 'sk-proj-exactly-once-000000000000000000'

/**
 * The storage of a process that dies in the first transaction that writes usage rows: that
 * transaction rolls back, and every transaction after it fails (a dead process writes nothing).
 * Reads still work, so the code under test runs into the failed write, as it would into a kill.
 */
function dyingStorage(inner: Storage) {
  const state = { dead: false }
  const usageRows = async (s: Storage) =>
    Number((await sql<{ n: number }>`select count(*) as n from usage_records`.execute(s.db)).rows[0].n)
  const storage: Storage = {
    db: inner.db,
    dialect: inner.dialect,
    changes: inner.changes,
    async transaction(fn) {
      if (state.dead) throw new Error('the process is dead')
      return inner.transaction(async (tx) => {
        const before = await usageRows(tx)
        const out = await fn(tx)
        if ((await usageRows(tx)) > before) {
          state.dead = true
          throw new Error('killed before the commit')
        }
        return out
      })
    },
    async runBatch(queries) {
      if (state.dead) throw new Error('the process is dead')
      return inner.runBatch(queries)
    },
    close: () => inner.close(),
  }
  return { storage, state }
}

describe.each(storageCases())('usage billed exactly once on $name', ({ create }) => {
  let cleanup: () => Promise<void>
  let dataDir: string
  let ctx: AppContext
  let client: OpenAI

  beforeAll(async () => {
    const made = create('exactly_once')
    cleanup = made.cleanup
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-exactly-once-'))
    const config = parseConfig({
      dataDir,
      bootstrap: { adminKey: ADMIN_KEY, projectKey: PROJECT_KEY },
      testModels: { enabled: true, scriptFile: SCRIPT_FILE },
    })
    ctx = await createContext(config, { storage: await openStorage(made.config) })
    const app = createApp(ctx)
    client = new OpenAI({
      apiKey: PROJECT_KEY,
      baseURL: 'http://plinth.test/v1',
      fetch: ((url: string, init: RequestInit) => app.request(url, init)) as typeof fetch,
      maxRetries: 0,
    })
  })
  afterAll(async () => {
    await ctx?.close()
    await cleanup?.()
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true })
  })

  const usageRows = (model: string) =>
    ctx.storage.db
      .selectFrom('usage_records')
      .select(['batch', 'input_tokens', 'output_tokens'])
      .where('model', '=', model)
      .execute()
  const projectOf = async (table: 'batches' | 'runs', id: string) =>
    (await ctx.storage.db.selectFrom(table).select('project_id').where('id', '=', id).executeTakeFirstOrThrow())
      .project_id
  const totals = async (model: string) => {
    const rows = await usageRows(model)
    return {
      requests: rows.length,
      prompt: rows.reduce((sum, r) => sum + r.input_tokens, 0),
      completion: rows.reduce((sum, r) => sum + r.output_tokens, 0),
    }
  }

  it('a batch flush that dies leaves neither results nor usage; the re-run bills each line once', async () => {
    const LINES = 30
    const input = Array.from({ length: LINES }, (_, i) =>
      JSON.stringify({
        custom_id: `line-${i}`,
        method: 'POST',
        url: '/v1/embeddings',
        body: { model: 'test-embed', input: `text number ${i}` },
      }),
    ).join('\n')
    const file = await client.files.create({ file: await toFile(Buffer.from(input), 'in.jsonl'), purpose: 'batch' })
    const batch = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/embeddings',
      completion_window: '24h',
    })
    const ref = { batchId: batch.id, projectId: await projectOf('batches', batch.id) }
    const deps = {
      files: ctx.services.files,
      inference: { chat: ctx.services.chat, completions: ctx.services.completions, embeddings: ctx.services.embeddings },
      hasModel: (id: string) => ctx.providers.has(id),
      limits: ctx.config.batches,
    }
    const dying = dyingStorage(ctx.storage)
    const signal = new AbortController().signal
    await expect(new BatchRun({ ...deps, storage: dying.storage }).run(ref, { signal, lastAttempt: false })).rejects.toThrow(
      'killed before the commit',
    )
    expect(dying.state.dead).toBe(true)
    const lines = await createRepos(ctx.storage.db).batchLines.pending(batch.id, 0, 1000)
    expect(lines).toHaveLength(LINES)
    expect(await usageRows('test-embed')).toEqual([])

    // the restart: another runner takes the batch over
    await new BatchRun({ ...deps, storage: ctx.storage }).run(ref, { signal, lastAttempt: false })
    const done = await client.batches.retrieve(batch.id)
    expect(done.status).toBe('completed')
    expect(done.request_counts).toEqual({ total: LINES, completed: LINES, failed: 0 })
    const output = (await (await client.files.content(done.output_file_id!)).text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    const rows = await usageRows('test-embed')
    expect(rows).toHaveLength(LINES)
    expect(rows.every((r) => r.batch === 1)).toBe(true)
    const tokens = (list: { input_tokens: number }[]) => list.reduce((sum, r) => sum + r.input_tokens, 0)
    expect(tokens(rows)).toBe(output.reduce((sum, o) => sum + o.response.body.usage.prompt_tokens, 0))
  })

  for (const path of ['completed', 'requires_action'] as const) {
    it(`a run whose turn dies at its end (${path}) is billed once, with one reply`, async () => {
      const before = await totals('test-scripted')
      const assistant = await client.beta.assistants.create({
        model: 'test-scripted',
        tools: [
          {
            type: 'function',
            function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
          },
        ],
      })
      const content = path === 'completed' ? 'hello there' : 'what is the weather in Paris?'
      const thread = await client.beta.threads.create({ messages: [{ role: 'user', content }] })
      const run = await client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id })
      const ref = { projectId: await projectOf('runs', run.id), threadId: thread.id, runId: run.id }
      const signal = new AbortController().signal

      const dying = dyingStorage(ctx.storage)
      await expect(
        new RunExecutor({ storage: dying.storage, chat: ctx.services.chat }).runJob(ref, { signal, lastAttempt: false }),
      ).rejects.toThrow()
      expect(dying.state.dead).toBe(true)
      const died = await client.beta.threads.runs.retrieve(run.id, { thread_id: thread.id })
      expect(died.status).toBe('in_progress')
      expect(died.usage).toBeNull()
      expect(await totals('test-scripted')).toEqual(before)

      // the restart: the job runs again, finds the turn half done and runs it again
      await new RunExecutor({ storage: ctx.storage, chat: ctx.services.chat }).runJob(ref, { signal, lastAttempt: false })
      const ended = await client.beta.threads.runs.retrieve(run.id, { thread_id: thread.id })
      expect(ended.status).toBe(path)
      const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })
      // the turn's usage is on one of its steps (the API shows it once the step ended), and on
      // the run once it ended
      const stored = await ctx.storage.db.selectFrom('run_steps').select('usage').where('run_id', '=', run.id).execute()
      const turn = JSON.parse(stored.find((s) => s.usage)!.usage!)
      if (path === 'completed') expect(ended.usage).toEqual(turn)
      const after = await totals('test-scripted')
      expect({
        requests: after.requests - before.requests,
        prompt: after.prompt - before.prompt,
        completion: after.completion - before.completion,
      }).toEqual({ requests: 1, prompt: turn.prompt_tokens, completion: turn.completion_tokens })
      const messages = await client.beta.threads.messages.list(thread.id, { run_id: run.id })
      if (path === 'completed') {
        expect(messages.data.map((m) => m.status)).toEqual(['completed'])
        expect(steps.data.map((s) => [s.type, s.status])).toEqual([['message_creation', 'completed']])
      } else {
        expect(messages.data).toEqual([])
        expect(steps.data.map((s) => s.type)).toEqual(['tool_calls'])
      }
    })
  }

  it('a code interpreter turn that dies at its end bills its session once, after the re-run', async () => {
    const sessionRows = () =>
      ctx.storage.db.selectFrom('usage_records').select('sessions').where('operation', '=', 'code_interpreter_sessions').execute()
    const before = { scripted: await totals('test-scripted'), sessions: (await sessionRows()).length }
    const assistant = await client.beta.assistants.create({ model: 'test-scripted', tools: [{ type: 'code_interpreter' }] })
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: '```python\nprint(1)\n```' }] })
    const run = await client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id })
    const ref = { projectId: await projectOf('runs', run.id), threadId: thread.id, runId: run.id }
    const signal = new AbortController().signal
    // one sandbox, as a host has; each executor is a process with its own tools
    const sandbox = new EchoSandbox()
    const executor = (storage: Storage) =>
      new RunExecutor({
        storage,
        chat: ctx.services.chat,
        tools: createToolRegistry({ sandbox, files: ctx.services.files, maxInputBytes: 1 << 20, idleTimeoutMs: 60_000 }),
      })

    const dying = dyingStorage(ctx.storage)
    await expect(executor(dying.storage).runJob(ref, { signal, lastAttempt: false })).rejects.toThrow()
    expect(dying.state.dead).toBe(true)
    expect(sandbox.calls).toBe(1)
    expect((await sessionRows()).length).toBe(before.sessions)
    expect(await totals('test-scripted')).toEqual(before.scripted)

    await executor(ctx.storage).runJob(ref, { signal, lastAttempt: false })
    const ended = await client.beta.threads.runs.retrieve(run.id, { thread_id: thread.id })
    expect(ended.status).toBe('completed')
    expect(sandbox.calls).toBe(2)
    const sessions = (await sessionRows()).slice(before.sessions)
    expect(sessions).toEqual([{ sessions: 1 }])
    // two model turns (the call, the answer), each billed once, as the run's usage says
    const after = await totals('test-scripted')
    expect({ requests: after.requests - before.scripted.requests, tokens: after.prompt + after.completion - before.scripted.prompt - before.scripted.completion }).toEqual({
      requests: 2,
      tokens: ended.usage!.total_tokens,
    })
    const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' })
    expect(steps.data.map((s) => [s.type, s.status])).toEqual([
      ['tool_calls', 'completed'],
      ['message_creation', 'completed'],
    ])
  })
})

/** A sandbox that prints what it was asked to run (the real one is tested in test/sandbox). */
class EchoSandbox implements Sandbox {
  calls = 0
  private readonly sessions = new Map<string, SandboxSession>()

  async session(key: string): Promise<SandboxSession> {
    let session = this.sessions.get(key)
    if (!session) {
      session = {
        key,
        putFile: async () => {},
        run: async (code) => {
          this.calls++
          return { outcome: 'ok', logs: `ran ${code}`, files: [], coldStart: false, durationMs: 1 }
        },
        close: async () => {},
      }
      this.sessions.set(key, session)
    }
    return session
  }

  async close() {}
}
