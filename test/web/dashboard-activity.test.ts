import { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRepos } from '../../src/storage/repositories/index.js'
import { signIn, type DashboardSession } from '../helpers/dashboard.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let dash: DashboardSession

beforeAll(async () => {
  t = await createTestApp()
  t.ctx.jobs.start()
  dash = await signIn(t)
})
afterAll(async () => t.close())

const poll = { pollIntervalMs: 50 }

describe('assistants view', () => {
  it('goes from assistants to threads to messages, runs and their steps (tool calls shown)', async () => {
    const client = t.client()
    const weather = await client.beta.assistants.create({
      model: 'test-scripted',
      name: 'Weather bot',
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
    })
    const echo = await client.beta.assistants.create({ model: 'test-echo', name: 'Echo bot' })
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'what is the weather in Paris?' }] })
    const waiting = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: weather.id }, poll)
    expect(waiting.status).toBe('requires_action')
    const call = waiting.required_action!.submit_tool_outputs.tool_calls[0]
    await client.beta.threads.runs.submitToolOutputsAndPoll(waiting.id, { thread_id: thread.id, tool_outputs: [{ tool_call_id: call.id, output: '21 C' }] }, poll)
    const lonely = await client.beta.threads.create({ messages: [{ role: 'user', content: 'echo this' }] })
    await client.beta.threads.runs.createAndPoll(lonely.id, { assistant_id: echo.id }, poll)

    const list = await (await dash.get('/dashboard/assistants')).text()
    expect(list).toContain('Weather bot')
    expect(list).toContain('get_weather')
    expect(list).toContain(thread.id)
    expect(list).toContain(lonely.id)
    const project = /name="project"[^>]*>\s*<option value="([^"]+)"/.exec(list)![1]
    const onlyWeather = await (await dash.get(`/dashboard/assistants?project=${project}&assistant=${weather.id}`)).text()
    expect(onlyWeather).toContain(thread.id)
    expect(onlyWeather).not.toContain(lonely.id)

    const page = await (await dash.get(`/dashboard/assistants/threads/${thread.id}?project=${project}`)).text()
    expect(page).toContain('what is the weather in Paris?')
    expect(page).toContain(`data-run="${waiting.id}"`)
    expect(page).toContain('completed')
    expect(page).toMatch(/get_weather\(\{.*Paris.*\}\) → 21 C/)
    expect(page).toContain('message_creation')
    const missing = await dash.get(`/dashboard/assistants/threads/thread_nope?project=${project}`)
    expect(missing.status).toBe(404)
  }, 30_000)
})

describe('batch and job progress', () => {
  it("fills each batch's bar from its request counts, and each job's from its progress", async () => {
    const client = t.client()
    const lines = [0, 1, 2].map((i) => JSON.stringify({ custom_id: `r${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'test-echo', messages: [{ role: 'user', content: `n${i}` }] } }))
    const file = await client.files.create({ file: await toFile(Buffer.from(lines.join('\n')), 'in.jsonl'), purpose: 'batch' })
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    for (let i = 0; i < 200 && (await client.batches.retrieve(batch.id)).status !== 'completed'; i++) await new Promise((r) => setTimeout(r, 50))

    // a job part way: a handler's { completed, total }
    const repos = createRepos(t.ctx.storage.db)
    const jobId = await repos.jobs.enqueue('dashboard.test', {}, { runAt: Date.now() + 3600_000 })
    await t.ctx.storage.db.updateTable('jobs').set({ progress: JSON.stringify({ completed: 1, total: 4 }) }).where('id', '=', jobId).execute()

    const html = await (await dash.get('/dashboard/batches')).text()
    const batchRow = new RegExp(`data-batch="${batch.id}"[\\s\\S]*?</tr>`).exec(html)![0]
    expect(batchRow).toContain('style="width:100.0%"')
    expect(batchRow).toContain('3/3')
    const jobRow = new RegExp(`data-job="${jobId}"[\\s\\S]*?</tr>`).exec(html)![0]
    expect(jobRow).toContain('style="width:25.0%"')
    expect(html).toMatch(/batch[^<]*<\/td><td>succeeded[\s\S]*?width:100.0%/)
  }, 30_000)
})
