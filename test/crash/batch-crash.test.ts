import fs from 'node:fs'
import path from 'node:path'
import OpenAI, { toFile } from 'openai'
import { afterAll, describe, expect, it } from 'vitest'
import { poll, serverProcesses } from '../helpers/server-process.js'

// Crash safety of Batches, with a real server process killed by SIGKILL in the middle of a batch:
// after a restart the batch finishes, each custom_id is in the output exactly once, and no File
// is ever served half-written.

const KEY = 'sk-proj-batch-crash-000000000000000000000'
const LINES = 60
const servers = serverProcesses(KEY)
afterAll(() => servers.cleanup())

describe('SIGKILL in the middle of a batch', () => {
  it('after a restart the batch completes with each custom_id exactly once', async () => {
    const dir = servers.dataDir('plinth-batch-crash-')
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

    let server = await servers.start(dataDir, { PLINTH_CONFIG: configFile, PLINTH_FILES_STALE_WRITE_SECONDS: '1' })
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
    await servers.kill(server)
    expect(before.status).toBe('in_progress')
    expect(before.request_counts!.completed).toBeLessThan(LINES)

    server = await servers.start(dataDir, { PLINTH_CONFIG: configFile, PLINTH_FILES_STALE_WRITE_SECONDS: '1' })
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
    await servers.kill(server)
  }, 120_000)
})
