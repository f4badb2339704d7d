import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeSandbox, sandboxConfig } from '../helpers/sandbox.js'
import { createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// Built-in tools in one response (docs/responses.md, "Built-in tools"), on test-scripted: it calls
// file_search with the user's message and then quotes the best source with its marker; it calls
// code_interpreter with the first ```python block. Every object and event is checked against the
// spec by the validating fetch.

const poll = { pollIntervalMs: 20 }

describe('file_search in a response', () => {
  let t: TestApp
  let client: OpenAI
  let storeId: string
  let etna: string
  beforeAll(async () => {
    t = await createTestApp()
    t.ctx.jobs.start()
    client = t.client()
    const store = await client.vectorStores.create({ name: 'facts' })
    const files = [
      await toFile(Buffer.from('Mount Etna in Sicily is the most active volcano in Europe.\nIt erupts often.'), 'volcanoes.txt'),
      await toFile(Buffer.from('# Rivers\nThe Danube flows through ten countries before the Black Sea.'), 'rivers.md'),
    ]
    const batch = await client.vectorStores.fileBatches.uploadAndPoll(store.id, { files }, poll)
    expect(batch.file_counts.completed).toBe(2)
    storeId = store.id
    const listed = await client.vectorStores.files.list(store.id)
    for (const f of listed.data) if ((await client.files.retrieve(f.id)).filename === 'volcanoes.txt') etna = f.id
  })
  afterAll(async () => t.close())

  it('searches, shows the call (results with include[]) and cites the source in the answer', async () => {
    const response = await client.responses.create({
      model: 'test-scripted',
      input: 'Which volcano is the most active in Europe?',
      tools: [{ type: 'file_search', vector_store_ids: [storeId], max_num_results: 3 }],
      include: ['file_search_call.results'],
    })
    expect(response.status).toBe('completed')
    expect(response.output.map((item) => item.type)).toEqual(['file_search_call', 'message'])
    const call = response.output[0] as OpenAI.Responses.ResponseFileSearchToolCall
    expect(call).toMatchObject({ status: 'completed', queries: ['Which volcano is the most active in Europe?'] })
    expect(call.id).toMatch(/^fs_/)
    expect(call.results!.length).toBeGreaterThan(0)
    expect(call.results!.length).toBeLessThanOrEqual(3)
    expect(call.results![0]).toMatchObject({ file_id: etna, filename: 'volcanoes.txt' })
    expect(call.results![0].text).toContain('Mount Etna')
    expect(response.output_text).toContain('Mount Etna in Sicily is the most active volcano in Europe.')
    const message = response.output[1] as OpenAI.Responses.ResponseOutputMessage
    const text = message.content[0] as OpenAI.Responses.ResponseOutputText
    // the marker the model wrote is taken out of the text; the annotation stands where it was
    expect(text.text).not.toMatch(/[【】]/)
    const cited = 'Mount Etna in Sicily is the most active volcano in Europe.'
    const after = text.text.indexOf(cited) + cited.length
    // the scripted answer writes the marker after a space: `... Europe. 【0:0†volcanoes.txt】`
    expect(text.text[after]).toBe(' ')
    expect(text.annotations).toEqual([{ type: 'file_citation', index: after + 1, file_id: etna, filename: 'volcanoes.txt' }])
    // two model calls, one usage
    expect(response.usage!.input_tokens).toBeGreaterThan(0)
    // stored: the next turn continues after it
    const next = await client.responses.create({ model: 'test-echo', input: 'thanks', previous_response_id: response.id })
    expect(next.output_text).toBe('thanks')
  })

  it('leaves the results out without include[], and streams the file_search_call events', async () => {
    const stream = await client.responses.create({
      model: 'test-scripted',
      input: 'Which volcano is the most active in Europe?',
      tools: [{ type: 'file_search', vector_store_ids: [storeId] }],
      stream: true,
    })
    const events = []
    for await (const event of stream) events.push(event)
    const types = events.map((e) => e.type)
    const start = types.indexOf('response.output_item.added')
    expect(types.slice(start, start + 5)).toEqual([
      'response.output_item.added',
      'response.file_search_call.in_progress',
      'response.file_search_call.searching',
      'response.file_search_call.completed',
      'response.output_item.done',
    ])
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i))
    const done = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent
    expect(done.type).toBe('response.completed')
    expect((done.response.output[0] as OpenAI.Responses.ResponseFileSearchToolCall).results).toBeNull()
    expect(done.response.output[1].type).toBe('message')
    // no delta shows a marker, and the deltas add up to the final text
    const deltas = events.filter((e) => e.type === 'response.output_text.delta').map((e) => (e as OpenAI.Responses.ResponseTextDeltaEvent).delta)
    const final = (done.response.output[1] as OpenAI.Responses.ResponseOutputMessage).content[0] as OpenAI.Responses.ResponseOutputText
    expect(deltas.join('')).toBe(final.text)
    expect(final.text).not.toMatch(/[【】]/)
    expect(final.annotations).toHaveLength(1)
  })

  // max_tool_calls is typed only by SDK 6's beta responses (a plain body field, as in OpenAI's
  // reference): sent as JSON here. The fixture's 'search two things' calls file_search twice at once
  const twoSearches = (extra: object) =>
    client.responses.create({
      model: 'test-scripted',
      input: 'Please search two things.',
      tools: [{ type: 'file_search', vector_store_ids: [storeId] }],
      ...extra,
    }) as unknown as Promise<OpenAI.Responses.Response & { max_tool_calls: number | null }>

  it('runs every built-in call without max_tool_calls, and echoes it null', async () => {
    const response = await twoSearches({})
    expect(response.output.map((item) => item.type)).toEqual(['file_search_call', 'file_search_call', 'message'])
    expect(response.output.slice(0, 2).map((item) => (item as OpenAI.Responses.ResponseFileSearchToolCall).queries)).toEqual([['volcano'], ['river']])
    expect(response.max_tool_calls).toBeNull()
  })

  it('max_tool_calls: the calls past it are ignored, streamed or not, and it is echoed and stored', async () => {
    const response = await twoSearches({ max_tool_calls: 1 })
    expect(response.status).toBe('completed')
    expect(response.output.map((item) => item.type)).toEqual(['file_search_call', 'message'])
    expect((response.output[0] as OpenAI.Responses.ResponseFileSearchToolCall).queries).toEqual(['volcano'])
    // the model answered with the one result it had
    expect(response.output_text).toContain('Mount Etna')
    expect(response.max_tool_calls).toBe(1)
    expect(((await client.responses.retrieve(response.id)) as typeof response).max_tool_calls).toBe(1)

    const stream = await client.responses.create({
      model: 'test-scripted',
      input: 'Please search two things.',
      tools: [{ type: 'file_search', vector_store_ids: [storeId] }],
      stream: true,
      ...({ max_tool_calls: 1 } as object),
    })
    const events = []
    for await (const event of stream) events.push(event)
    expect(events.filter((e) => e.type === 'response.file_search_call.completed')).toHaveLength(1)
    const done = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent
    expect(done.response.output.map((item) => item.type)).toEqual(['file_search_call', 'message'])
    expect((done.response as typeof response).max_tool_calls).toBe(1)
  })

  it('max_tool_calls below 1 or not an integer: the 400 of an out-of-range value', async () => {
    for (const [value, message, code] of [
      [0, "Invalid 'max_tool_calls': integer below minimum value. Expected a value >= 1, but got 0 instead.", 'integer_below_min_value'],
      [1.5, "Invalid type for 'max_tool_calls': expected an integer, but got a decimal instead.", 'invalid_type'],
    ] as const) {
      const error = await twoSearches({ max_tool_calls: value }).catch((e) => e)
      expect(error).toBeInstanceOf(OpenAI.BadRequestError)
      expect(error.error).toEqual({ message, type: 'invalid_request_error', param: 'max_tool_calls', code })
    }
  })

  it('refuses a tool this server cannot run, naming it', async () => {
    const error = await client.responses.create({ model: 'test-scripted', input: 'x', tools: [{ type: 'web_search_preview' }] }).catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect(error.error.param).toBe('tools[0].type')
  })
})

describeSandbox('code_interpreter in a response', () => {
  let t: TestApp
  let client: OpenAI
  beforeAll(async () => {
    t = await createTestApp({ codeInterpreter: sandboxConfig({ spareKernels: 0 }) }, { transport: 'http' })
    // @NOTE not the validating fetch: the spec file predates code_interpreter in Responses (no
    // such tool nor output item); the shapes are SDK 6's, checked field by field below
    client = new OpenAI({ apiKey: PROJECT_KEY, baseURL: `${t.url}/v1`, maxRetries: 0 })
  })
  afterAll(async () => t.close())

  it('runs the code, shows the call with its outputs and answers with them', async () => {
    const response = await client.responses.create({
      model: 'test-scripted',
      input: 'Compute this:\n```python\nprint(6 * 7)\n```',
      tools: [{ type: 'code_interpreter', container: { type: 'auto' } }],
      include: ['code_interpreter_call.outputs'],
    })
    expect(response.output.map((item) => item.type)).toEqual(['code_interpreter_call', 'message'])
    const call = response.output[0] as OpenAI.Responses.ResponseCodeInterpreterToolCall
    expect(call).toMatchObject({ status: 'completed', code: 'print(6 * 7)\n', outputs: [{ type: 'logs', logs: '42\n' }] })
    expect(call.container_id).toMatch(/^cntr_/)
    expect(response.output_text).toContain('42')
  })

  it('streams the code_interpreter_call events', async () => {
    const stream = await client.responses.create({
      model: 'test-scripted',
      input: 'Compute this:\n```python\nprint(6 * 7)\n```',
      tools: [{ type: 'code_interpreter', container: { type: 'auto' } }],
      stream: true,
    })
    const types: string[] = []
    for await (const event of stream) types.push(event.type)
    const start = types.indexOf('response.output_item.added')
    expect(types.slice(start, start + 7)).toEqual([
      'response.output_item.added',
      'response.code_interpreter_call_code.delta',
      'response.code_interpreter_call_code.done',
      'response.code_interpreter_call.in_progress',
      'response.code_interpreter_call.interpreting',
      'response.code_interpreter_call.completed',
      'response.output_item.done',
    ])
    expect(types.at(-1)).toBe('response.completed')
  })
})
