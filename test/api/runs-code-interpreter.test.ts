import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { v1Client } from '../helpers/assistants.js'
import { describeSandbox, sandboxConfig } from '../helpers/sandbox.js'
import { ADMIN_KEY, createTestApp, type TestApp } from '../helpers/test-context.js'

// The code interpreter in runs (docs/code-interpreter.md, "In runs"), through the SDK on
// test-scripted, which runs the first fenced python block of the last user message and answers
// with its output. Real sandboxed Python: skipped, with the reason, where the host cannot sandbox.

let t: TestApp
let client: OpenAI
const poll = { pollIntervalMs: 20 }
const fence = (code: string) => '```python\n' + code + '\n```'

describeSandbox('code interpreter in runs', () => {
  beforeAll(async () => {
    t = await createTestApp({ codeInterpreter: sandboxConfig({ spareKernels: 0 }) })
    t.ctx.jobs.start()
    client = t.client()
  })
  afterAll(async () => t?.close())

  async function ask(text: string, options: { assistant?: OpenAI.Beta.Assistant; attachments?: OpenAI.Beta.Threads.Messages.MessageCreateParams['attachments'] } = {}) {
    const assistant =
      options.assistant ??
      (await client.beta.assistants.create({ model: 'test-scripted', tools: [{ type: 'code_interpreter' }] }))
    const thread = await client.beta.threads.create({
      messages: [{ role: 'user', content: text, attachments: options.attachments }],
    })
    const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll)
    const messages = await client.beta.threads.messages.list(thread.id, { run_id: run.id, order: 'asc' })
    const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' })
    return { assistant, thread, run, answer: messages.data[0], steps: steps.data }
  }

  const textOf = (message: OpenAI.Beta.Threads.Message) =>
    message.content.flatMap((c) => (c.type === 'text' ? [c.text] : []))[0]!

  it("the seed's Math Tutor (v1) answers 2**100 through a sandboxed run", async () => {
    const v1 = v1Client(t)
    // the seed's "Create assistant (v1)" example, on test-scripted
    const assistant = await v1.beta.assistants.create({
      instructions: 'You are a personal math tutor. When asked a question, write and run Python code to answer the question.',
      name: 'Math Tutor',
      tools: [{ type: 'code_interpreter' }],
      model: 'test-scripted',
    })
    const thread = await v1.beta.threads.create({
      messages: [{ role: 'user', content: `What is 2**100? Use Python.\n${fence('2**100')}` }],
    })
    const run = await v1.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll)
    expect(run.status).toBe('completed')
    expect(run.tools).toEqual([{ type: 'code_interpreter' }])
    expect(run).toHaveProperty('file_ids', [])
    const messages = await v1.beta.threads.messages.list(thread.id, { run_id: run.id })
    expect(textOf(messages.data[0]).value).toContain('1267650600228229401496703205376')
    const steps = await v1.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' })
    expect(steps.data.map((s) => [s.type, s.status])).toEqual([
      ['tool_calls', 'completed'],
      ['message_creation', 'completed'],
    ])
    expect(steps.data[0].step_details).toMatchObject({
      type: 'tool_calls',
      tool_calls: [
        {
          type: 'code_interpreter',
          code_interpreter: { input: '2**100\n', outputs: [{ type: 'logs', logs: '1267650600228229401496703205376\n' }] },
        },
      ],
    })
    expect(steps.data[0].usage!.total_tokens).toBeGreaterThan(0)
    // both model turns are billed: the run's usage is their sum
    expect(run.usage!.total_tokens).toBe(steps.data[0].usage!.total_tokens + steps.data[1].usage!.total_tokens)
  })

  it('a matplotlib chart comes back as image_file content and an image output, downloadable', async () => {
    const code = 'import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [1, 4, 9])\nplt.show()'
    const { run, answer, steps } = await ask(`Plot it.\n${fence(code)}`)
    expect(run.status).toBe('completed')
    const image = answer.content[0]
    expect(image.type).toBe('image_file')
    const fileId = (image as OpenAI.Beta.Threads.ImageFileContentBlock).image_file.file_id
    const call = (steps[0].step_details as OpenAI.Beta.Threads.Runs.ToolCallsStepDetails).tool_calls[0] as OpenAI.Beta.Threads.Runs.CodeInterpreterToolCall
    expect(call.code_interpreter.outputs).toContainEqual({ type: 'image', image: { file_id: fileId } })
    const file = await client.files.retrieve(fileId)
    expect(file).toMatchObject({ purpose: 'assistants_output', filename: '/mnt/data/figure-1.png' })
    const bytes = Buffer.from(await (await client.files.content(fileId)).arrayBuffer())
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    expect(bytes.length).toBe(file.bytes)
  })

  it('a CSV in (an attachment at /mnt/data/<file id>), a CSV out with a file_path annotation', async () => {
    const input = await client.files.create({
      file: await toFile(Buffer.from('city,sales\nParis,3\nLyon,4\nParis,5\n'), 'sales.csv'),
      purpose: 'assistants',
    })
    const code = [
      'import pandas as pd',
      `df = pd.read_csv('/mnt/data/${input.id}')`,
      "df.groupby('city').sum().to_csv('/mnt/data/totals.csv')",
      'print(len(df))',
    ].join('\n')
    const { run, answer } = await ask(`Sum by city.\n${fence(code)}`, {
      attachments: [{ file_id: input.id, tools: [{ type: 'code_interpreter' }] }],
    })
    expect(run.status).toBe('completed')
    const text = textOf(answer)
    expect(text.value).toContain('3\n')
    const link = 'sandbox:/mnt/data/totals.csv'
    const start = text.value.indexOf(link)
    expect(start).toBeGreaterThan(-1)
    expect(text.annotations).toHaveLength(1)
    const annotation = text.annotations[0] as OpenAI.Beta.Threads.FilePathAnnotation
    expect(annotation).toMatchObject({ type: 'file_path', text: link, start_index: start, end_index: start + link.length })
    const csv = await (await client.files.content(annotation.file_path.file_id)).text()
    expect(csv).toBe('city,sales\nLyon,4\nParis,8\n')
    expect((await client.files.retrieve(annotation.file_path.file_id)).purpose).toBe('assistants_output')
  })

  it('v1 assistant file_ids are placed at /mnt/data/<file id>, and the model is told', async () => {
    const v1 = v1Client(t)
    const data = await v1.files.create({ file: await toFile(Buffer.from('42'), 'answer.txt'), purpose: 'assistants' })
    const assistant = await v1.beta.assistants.create({
      model: 'test-scripted',
      tools: [{ type: 'code_interpreter' }],
      file_ids: [data.id],
    } as never)
    const thread = await v1.beta.threads.create({
      messages: [{ role: 'user', content: fence(`print(open('/mnt/data/${data.id}').read())`) }],
    })
    const run = await v1.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll)
    expect(run).toMatchObject({ status: 'completed', file_ids: [data.id] })
    const messages = await v1.beta.threads.messages.list(thread.id, { run_id: run.id })
    expect(textOf(messages.data[0]).value).toBe('42')
  })

  it('keeps state across two runs on one thread; a traceback is an output and the run completes', async () => {
    const assistant = await client.beta.assistants.create({ model: 'test-scripted', tools: [{ type: 'code_interpreter' }] })
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: fence('x = 41') }] })
    const first = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll)
    expect(first.status).toBe('completed')
    await client.beta.threads.messages.create(thread.id, { role: 'user', content: fence('print(x + 1)\n1 / 0') })
    const second = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll)
    expect(second.status).toBe('completed')
    const steps = await client.beta.threads.runs.steps.list(second.id, { thread_id: thread.id, order: 'asc' })
    const call = (steps.data[0].step_details as OpenAI.Beta.Threads.Runs.ToolCallsStepDetails).tool_calls[0] as OpenAI.Beta.Threads.Runs.CodeInterpreterToolCall
    const logs = (call.code_interpreter.outputs[0] as OpenAI.Beta.Threads.Runs.CodeInterpreterToolCall.CodeInterpreter.Logs).logs
    expect(logs).toMatch(/^42\n/)
    expect(logs).toContain('ZeroDivisionError: division by zero')
    const messages = await client.beta.threads.messages.list(thread.id, { run_id: second.id })
    expect(textOf(messages.data[0]).value).toContain('ZeroDivisionError')
  })

  it('a scripted rule names the code to run', async () => {
    const { run, answer, steps } = await ask('Please run the sample code.')
    expect(run.status).toBe('completed')
    expect(textOf(answer).value).toBe('sample 42')
    expect(steps[0].step_details).toMatchObject({ tool_calls: [{ code_interpreter: { input: "print('sample', 6 * 7)" } }] })
  })

  it('records one code_interpreter_sessions usage per thread session, in the usage API', async () => {
    const before = await sessions()
    const { thread, assistant } = await ask(fence('y = 1'))
    await client.beta.threads.messages.create(thread.id, { role: 'user', content: fence('print(y)') })
    const again = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll)
    expect(again.status).toBe('completed')
    expect((await sessions()) - before).toBe(1)
  })

  it.each(['v2', 'v1'])('streams the call (%s): input deltas, then the outputs, through the SDK helpers', async (version) => {
    const client = version === 'v1' ? v1Client(t) : t.client()
    const assistant = await client.beta.assistants.create({ model: 'test-scripted', tools: [{ type: 'code_interpreter' }] })
    const code = 'total = sum(range(10))\nprint(total)'
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: fence(code) }] })
    const created: string[] = []
    let input = ''
    const outputs: unknown[] = []
    let text = ''
    const events: string[] = []
    const stream = client.beta.threads.runs
      .stream(thread.id, { assistant_id: assistant.id })
      .on('event', (e) => events.push(e.event))
      .on('toolCallCreated', (call) => created.push(call.type))
      .on('toolCallDelta', (delta) => {
        if (delta.type !== 'code_interpreter') return
        input += delta.code_interpreter?.input ?? ''
        outputs.push(...(delta.code_interpreter?.outputs ?? []))
      })
      .on('textDelta', (delta) => (text += delta.value ?? ''))
    const run = await stream.finalRun()
    expect(run.status).toBe('completed')
    expect(created).toEqual(['code_interpreter'])
    expect(input).toBe(`${code}\n`)
    expect(outputs).toEqual([{ index: 0, type: 'logs', logs: '45\n' }])
    expect(text).toBe('45')
    const deltas = events.filter((e) => e === 'thread.run.step.delta').length
    expect(deltas).toBeGreaterThan(2)
    expect(events.filter((e) => e !== 'thread.run.step.delta' && e !== 'thread.message.delta')).toEqual([
      'thread.run.created',
      'thread.run.queued',
      'thread.run.in_progress',
      'thread.run.step.created',
      'thread.run.step.in_progress',
      'thread.run.step.completed',
      'thread.run.step.created',
      'thread.run.step.in_progress',
      'thread.message.created',
      'thread.message.in_progress',
      'thread.message.completed',
      'thread.run.step.completed',
      'thread.run.completed',
    ])
  })
})

describeSandbox('code interpreter in runs: a call past the wall-clock limit', () => {
  beforeAll(async () => {
    t = await createTestApp({ codeInterpreter: sandboxConfig({ spareKernels: 0, callTimeoutMs: 1500 }) })
    t.ctx.jobs.start()
    client = t.client()
  })
  afterAll(async () => t?.close())

  it('is reported to the model as output, the run completes, and the next call starts fresh', async () => {
    const assistant = await client.beta.assistants.create({ model: 'test-scripted', tools: [{ type: 'code_interpreter' }] })
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: fence('x = 1\nwhile True: pass') }] })
    const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll)
    expect(run.status).toBe('completed')
    const [answer] = (await client.beta.threads.messages.list(thread.id, { run_id: run.id })).data
    const text = (answer.content[0] as OpenAI.Beta.Threads.TextContentBlock).text.value
    expect(text).toContain('Execution timed out after')
    expect(text).toContain('The session restarts fresh')
    await client.beta.threads.messages.create(thread.id, { role: 'user', content: fence("print('x' in globals())") })
    const next = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, poll)
    const [after] = (await client.beta.threads.messages.list(thread.id, { run_id: next.id })).data
    expect((after.content[0] as OpenAI.Beta.Threads.TextContentBlock).text.value).toBe('False')
  })
})

async function sessions(): Promise<number> {
  await t.ctx.services.usage.settled()
  const start = Math.floor(Date.now() / 1000) - 3600
  const response = await t.fetch(`http://plinth.test/v1/organization/usage/code_interpreter_sessions?start_time=${start}&bucket_width=1h&limit=2`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  })
  const body = await response.json()
  return body.data.flatMap((b: { results: { num_sessions: number }[] }) => b.results).reduce((n: number, r: { num_sessions: number }) => n + r.num_sessions, 0)
}
