import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { poll, serverProcesses } from '../helpers/server-process.js'

// Crash safety of background responses: a real server is killed by SIGKILL while the model writes
// one. After a restart the job runner takes the response over (its lease expired) and it ends,
// completed with the whole answer (or failed), never stuck queued or in_progress.

const KEY = 'sk-proj-response-crash-0000000000000000'
const servers = serverProcesses(KEY)
afterAll(() => servers.cleanup())

describe('SIGKILL in the middle of a background response', () => {
  it('after a restart the response ends, whole', async () => {
    const dir = servers.dataDir('plinth-response-crash-')
    const dataDir = path.join(dir, 'data')
    const script = path.join(dir, 'script.json')
    fs.writeFileSync(
      script,
      JSON.stringify({
        rules: [{ match: 'slow reply', reply: { content: 'a b c d e f g h i j k l m n o p q r s t u v w x y z', chunk_delay_ms: 100 } }],
      }),
    )
    const configFile = path.join(dir, 'config.json')
    fs.writeFileSync(configFile, JSON.stringify({ testModels: { enabled: true, scriptFile: script } }))

    let server = await servers.start(dataDir, { PLINTH_CONFIG: configFile })
    const created = await server.client.responses.create({ model: 'test-scripted', input: 'a slow reply please', background: true })
    expect(created.status).toBe('queued')
    await poll(() => server.client.responses.retrieve(created.id), (r) => r.status === 'in_progress', 'the response to start', 10_000)
    await new Promise((r) => setTimeout(r, 500))
    await servers.kill(server)

    server = await servers.start(dataDir, { PLINTH_CONFIG: configFile })
    const ended = await poll(
      () => server.client.responses.retrieve(created.id),
      (r) => !['queued', 'in_progress'].includes(r.status!),
      'the response to end',
      45_000,
    )
    expect(ended.status).toBe('completed')
    expect(ended.output_text).toBe('a b c d e f g h i j k l m n o p q r s t u v w x y z')
    expect(ended.output).toHaveLength(1)
    await servers.kill(server)
  }, 90_000)
})
