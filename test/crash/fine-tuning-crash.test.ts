import fs from 'node:fs'
import path from 'node:path'
import { toFile } from 'openai'
import { afterAll, describe, expect, it } from 'vitest'
import { requireStories } from '../helpers/llama.js'
import { poll, serverProcesses } from '../helpers/server-process.js'

// Crash safety of fine-tuning: a real server is killed by SIGKILL while the local trainer runs a
// job on stories260K, after its first checkpoint. After a restart the job runner takes the job
// over (its lease expired) and the job resumes from that checkpoint and succeeds; it is never
// left `running`.

const KEY = 'sk-proj-ft-crash-000000000000000000000000'
const servers = serverProcesses(KEY)
afterAll(() => servers.cleanup())

describe('SIGKILL in the middle of training', () => {
  it('after a restart the job resumes from its last checkpoint and ends', async () => {
    const dir = servers.dataDir('plinth-ft-crash-')
    const dataDir = path.join(dir, 'data')
    const models = path.join(dir, 'models')
    fs.mkdirSync(models)
    fs.symlinkSync(requireStories(), path.join(models, 'stories260K.gguf'))
    const configFile = path.join(dir, 'config.json')
    fs.writeFileSync(
      configFile,
      JSON.stringify({ llama: { modelsDir: models, defaults: { threads: 1, contextSize: 512, sequences: 1 } }, jobs: { leaseSeconds: 3 } }),
    )
    let server = await servers.start(dataDir, { PLINTH_CONFIG: configFile })
    const lines = Array.from({ length: 12 }, (_, i) =>
      JSON.stringify({ messages: [{ role: 'user', content: `Question ${i}?` }, { role: 'assistant', content: 'Plinth builds towers.' }] }),
    ).join('\n')
    const file = await server.client.files.create({ file: await toFile(Buffer.from(lines), 't.jsonl'), purpose: 'fine-tune' })
    const job = await server.client.fineTuning.jobs.create({
      model: 'stories260K',
      training_file: file.id,
      hyperparameters: { n_epochs: 4, batch_size: 3 },
    })
    await poll(
      () => server.client.fineTuning.jobs.checkpoints.list(job.id),
      (page) => page.data.length > 0,
      'the first checkpoint',
      60_000,
    )
    await servers.kill(server)
    const killed = Date.now()

    server = await servers.start(dataDir, { PLINTH_CONFIG: configFile })
    const ended = await poll(
      () => server.client.fineTuning.jobs.retrieve(job.id),
      (j) => ['succeeded', 'failed', 'cancelled'].includes(j.status),
      'the job to end',
      120_000,
    )
    console.log(`fine-tuning job ended ${ended.status} ${((Date.now() - killed) / 1000).toFixed(1)} s after the kill`)
    expect(ended.status).toBe('succeeded')
    const events = (await server.client.fineTuning.jobs.listEvents(job.id, { limit: 100 })).data
    expect(events.some((e) => /^Resuming from the checkpoint at step \d+ after a restart$/.test(e.message))).toBe(true)
    // each step's metrics once, steps 1..16
    const steps = events.filter((e) => e.type === 'metrics').map((e) => (e.data as { step: number }).step)
    expect([...steps].sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1))
    const checkpoints = await server.client.fineTuning.jobs.checkpoints.list(job.id)
    expect(checkpoints.data.map((c) => c.step_number)).toEqual([16, 12, 8, 4])
    // served after the restart
    const models_ = await server.client.models.list()
    expect(models_.data.some((m) => m.id === ended.fine_tuned_model)).toBe(true)
    await servers.kill(server)
    // and again at the next boot (re-registered from the database)
    server = await servers.start(dataDir, { PLINTH_CONFIG: configFile })
    const answer = await server.client.chat.completions.create({ model: ended.fine_tuned_model!, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] })
    expect(answer.model).toBe(ended.fine_tuned_model)
    await servers.kill(server)
  }, 240_000)
})
