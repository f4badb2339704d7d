import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { poll, serverProcesses } from '../helpers/server-process.js'

// Crash safety of runs: a real server is killed by SIGKILL while the model writes a run's reply.
// After a restart the job runner takes the run over (its lease expired) and the run ends,
// completed or failed, never stuck in_progress; the thread holds one assistant message.

const KEY = 'sk-proj-run-crash-00000000000000000000000'
const servers = serverProcesses(KEY)
afterAll(() => servers.cleanup())

describe('SIGKILL in the middle of a run', () => {
  it('after a restart the run ends, with one reply', async () => {
    const dir = servers.dataDir('plinth-run-crash-')
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

    let server = await servers.start(dataDir, { PLINTH_CONFIG: configFile, PLINTH_FILES_STALE_WRITE_SECONDS: '1' })
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
    await servers.kill(server)

    server = await servers.start(dataDir, { PLINTH_CONFIG: configFile, PLINTH_FILES_STALE_WRITE_SECONDS: '1' })
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
    await servers.kill(server)
  }, 90_000)
})
