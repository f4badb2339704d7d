import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { modelsDir } from '../helpers/llama.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// file_search driven by a real llama.cpp model (docs/assistants.md, "File search"): stories260K
// sees the tool as the function file_search(query); a forced tool_choice opens the call and the
// query is written under the tool-call grammar. The hybrid search finds the store's chunks (the
// vector list ranks every chunk), the results are the call's output, and the run goes on to an
// answer. Greedy (temperature 0), so every turn is deterministic.

const MODEL = 'stories260K'
const MAX_COMPLETION = 256

let t: TestApp
let client: OpenAI
let dir: ReturnType<typeof modelsDir>

describe('file_search on stories260K (llama.cpp)', () => {
  beforeAll(async () => {
    dir = modelsDir([`${MODEL}.gguf`])
    t = await createTestApp({ llama: { modelsDir: dir.dir, defaults: { threads: 1, contextSize: 2048, sequences: 1 } } })
    t.ctx.jobs.start()
    client = t.client()
  })
  afterAll(async () => {
    await t?.close()
    dir?.remove()
  })

  it('the forced call writes a query, its results are in the step, then an answer', async () => {
    const store = await client.vectorStores.create({ name: 'story' })
    await client.vectorStores.fileBatches.uploadAndPoll(store.id, {
      files: [await toFile(Buffer.from('Lily had a big red ball. She played with it in the park.'), 'lily.txt')],
    }, { pollIntervalMs: 20 })
    const assistant = await client.beta.assistants.create({
      model: MODEL,
      temperature: 0,
      tools: [{ type: 'file_search' }],
      tool_resources: { file_search: { vector_store_ids: [store.id] } },
    })
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'Once upon a time' }] })
    const run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id, tool_choice: { type: 'file_search' }, max_completion_tokens: MAX_COMPLETION },
      { pollIntervalMs: 50 },
    )
    expect(run.last_error).toBeNull()
    expect(['completed', 'incomplete']).toContain(run.status)
    const steps = (await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc', include: ['step_details.tool_calls[*].file_search.results[*].content'] })).data
    expect(steps.map((s) => s.type)).toEqual(['tool_calls', 'message_creation'])
    const call = (steps[0].step_details as OpenAI.Beta.Threads.Runs.ToolCallsStepDetails).tool_calls[0] as OpenAI.Beta.Threads.Runs.FileSearchToolCall
    expect(call.type).toBe('file_search')
    expect(call.id).toMatch(/^call_/)
    expect(call.file_search.results![0]).toMatchObject({ file_name: 'lily.txt' })
    expect(call.file_search.results![0].content![0].text).toContain('Lily had a big red ball')
  })
})
