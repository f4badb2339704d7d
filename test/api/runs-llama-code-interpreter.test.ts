import type { ChatWrapper } from 'node-llama-cpp'
import OpenAI from 'openai'
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import { plainText } from '../../src/providers/llama-cpp/chat-template.js'
import { LoadedModel } from '../../src/providers/llama-cpp/loaded-model.js'
import { v1Client } from '../helpers/assistants.js'
import { modelsDir } from '../helpers/llama.js'
import { describeSandbox, sandboxConfig } from '../helpers/sandbox.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// The code interpreter driven by a real llama.cpp model (docs/code-interpreter.md, "In runs"):
// stories260K sees the tool as the function code_interpreter(code); a forced tool_choice opens
// the call and the code is written under the tool-call grammar. The model writes a story, not
// Python, so its code fails in the sandbox: the traceback is the call's output, the model reads
// it, and the run goes on to an answer. Greedy (temperature 0), so every turn is deterministic.

const MODEL = 'stories260K'
// the spec's minimum for a run's max_completion_tokens; the greedy story reaches it
const MAX_COMPLETION = 256

let t: TestApp
let client: OpenAI
let dir: ReturnType<typeof modelsDir>
/** the prompts llama.cpp was given, as text in the model's template */
const prompts: string[] = []
const original = LoadedModel.prototype.chatWrapper

type CodeCall = OpenAI.Beta.Threads.Runs.CodeInterpreterToolCall
type ToolCallsDetails = OpenAI.Beta.Threads.Runs.ToolCallsStepDetails
type CodeLogs = OpenAI.Beta.Threads.Runs.CodeInterpreterToolCall.CodeInterpreter.Logs

describeSandbox('code interpreter on stories260K (llama.cpp)', () => {
  beforeAll(async () => {
    LoadedModel.prototype.chatWrapper = async function (this: LoadedModel) {
      const wrapper = await original.call(this)
      const generateContextState: ChatWrapper['generateContextState'] = (options) => {
        const state = wrapper.generateContextState(options)
        prompts.push(plainText(state.contextText))
        return state
      }
      return Object.assign(Object.create(wrapper) as ChatWrapper, { generateContextState })
    }
    dir = modelsDir([`${MODEL}.gguf`])
    t = await createTestApp({
      // with the tool described (the template's function preamble and the tool's description)
      // the prompt is ~960 of this model's tokens: turn two, the call and its traceback added,
      // does not fit a 1024-token context (the run fails); the GGUF's is 2048
      llama: { modelsDir: dir.dir, defaults: { threads: 1, contextSize: 2048, sequences: 1 } },
      codeInterpreter: sandboxConfig({ spareKernels: 0 }),
    })
    t.ctx.jobs.start()
    client = t.client()
  })
  afterAll(async () => {
    LoadedModel.prototype.chatWrapper = original
    await t?.close()
    dir?.remove()
  })

  it("the forced call's traceback is its output; then an answer (v2, streamed)", async () => {
    const chunks = vi.spyOn(t.ctx.services.chat, 'chunks')
    const assistant = await client.beta.assistants.create({
      model: MODEL,
      temperature: 0,
      tools: [{ type: 'code_interpreter' }],
    })
    const thread = await client.beta.threads.create({
      messages: [{ role: 'user', content: 'Once upon a time' }],
    })
    prompts.length = 0
    let streamedCode = ''
    let streamedText = ''
    const events: string[] = []
    const started = Date.now()
    const stream = client.beta.threads.runs
      .stream(thread.id, {
        assistant_id: assistant.id,
        tool_choice: { type: 'code_interpreter' },
        max_completion_tokens: MAX_COMPLETION,
      })
      .on('event', ({ event }) => events.push(event))
      .on('toolCallDelta', (delta) => {
        if (delta.type === 'code_interpreter') streamedCode += delta.code_interpreter?.input ?? ''
      })
      .on('textDelta', (delta) => (streamedText += delta.value ?? ''))
    const run = await stream.finalRun()
    console.info(`stories260K code interpreter run (v2, streamed): ${Date.now() - started} ms`)

    // greedy, the answer runs into max_completion_tokens: the run is incomplete, not failed
    expect(run).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_completion_tokens' },
      last_error: null,
      tool_choice: { type: 'code_interpreter' },
    })
    expect(run.usage!.completion_tokens).toBe(MAX_COMPLETION)

    const list = { thread_id: thread.id, order: 'asc' as const }
    const steps = (await client.beta.threads.runs.steps.list(run.id, list)).data
    expect(steps.map((s) => [s.type, s.status])).toEqual([
      ['tool_calls', 'completed'],
      ['message_creation', 'completed'],
    ])
    const calls = (steps[0].step_details as ToolCallsDetails).tool_calls
    expect(calls).toHaveLength(1)
    const call = calls[0] as CodeCall
    expect(call.type).toBe('code_interpreter')
    expect(call.id).toMatch(/^call_/)
    const { input, outputs } = call.code_interpreter
    expect(input.trim().length).toBeGreaterThan(0)
    // the input streamed as the model wrote it: the code argument decoded, not its JSON
    expect(streamedCode).toBe(input)
    expect(outputs).toHaveLength(1)
    const logs = (outputs[0] as CodeLogs).logs
    expect(outputs[0].type).toBe('logs')
    // a story is not Python: the output is the exception the cell raised
    expect(logs).toMatch(/^\w+Error: /m)
    // and it is what the sandbox prints for that code, run on its own
    const fresh = await t.ctx.sandbox.session(`${thread.id}-check`)
    try {
      expect((await fresh.run(input)).logs).toBe(logs)
    } finally {
      await fresh.close()
    }

    // the tool step streamed whole before the answer's message began
    const stepEnd = events.indexOf('thread.run.step.completed')
    const toolEvents = events.slice(events.indexOf('thread.run.step.created'), stepEnd + 1)
    expect(toolEvents.every((e) => e.startsWith('thread.run.step.'))).toBe(true)
    expect(toolEvents).toContain('thread.run.step.delta')
    expect(events.indexOf('thread.message.created')).toBeGreaterThan(stepEnd)
    expect(events.at(-1)).toBe('thread.run.incomplete')

    // turn one was forced to the tool; turn two, free, read the traceback as the call's result
    const turns = chunks.mock.calls.map(([, params]) => params)
    chunks.mockRestore()
    expect(turns.map((p) => p.tool_choice)).toEqual([
      { type: 'function', function: { name: 'code_interpreter' } },
      'auto',
    ])
    const read = logs.trimEnd()
    expect(turns[1].messages.at(-1)).toEqual({ role: 'tool', tool_call_id: call.id, content: read })
    // ... which the model's template shows after the call, in its own function syntax
    const last = prompts.at(-1)!
    expect(last).toContain('||call: code_interpreter(')
    expect(last).toContain(`||result: ${JSON.stringify(read)}`)

    const [answer] = (await client.beta.threads.messages.list(thread.id, { run_id: run.id })).data
    expect(answer).toMatchObject({
      role: 'assistant',
      status: 'incomplete',
      incomplete_details: { reason: 'max_tokens' },
    })
    const text = { value: streamedText, annotations: [] }
    expect(answer.content).toEqual([{ type: 'text', text }])
    expect(streamedText.length).toBeGreaterThan(0)

    // both turns are billed: the run's usage is the sum of its steps'
    const sum = (key: 'prompt_tokens' | 'completion_tokens') =>
      steps.reduce((n, s) => n + s.usage![key], 0)
    expect(run.usage).toMatchObject({
      prompt_tokens: sum('prompt_tokens'),
      completion_tokens: sum('completion_tokens'),
    })
  })

  it('assistants=v1: the call, its traceback, then a completed run', async () => {
    const v1 = v1Client(t)
    const assistant = await v1.beta.assistants.create({
      model: MODEL,
      tools: [{ type: 'code_interpreter' }],
    })
    const thread = await v1.beta.threads.create({
      messages: [{ role: 'user', content: 'Once upon a time' }],
    })
    const started = Date.now()
    const run = await v1.beta.threads.runs.createAndPoll(
      thread.id,
      {
        assistant_id: assistant.id,
        temperature: 0, // v1 assistants have no temperature; v1 runs do
        tool_choice: { type: 'code_interpreter' },
        max_completion_tokens: MAX_COMPLETION,
      },
      { pollIntervalMs: 20 },
    )
    console.info(`stories260K code interpreter run (v1, polled): ${Date.now() - started} ms`)
    // v1 has no `incomplete` status: a run cut at the cap is completed
    expect(run.status).toBe('completed')
    const list = { thread_id: thread.id, order: 'asc' as const }
    const steps = (await v1.beta.threads.runs.steps.list(run.id, list)).data
    expect(steps.map((s) => s.type)).toEqual(['tool_calls', 'message_creation'])
    const call = (steps[0].step_details as ToolCallsDetails).tool_calls[0] as CodeCall
    expect(call.type).toBe('code_interpreter')
    const logs = expect.stringMatching(/^\w+Error: /m)
    expect(call.code_interpreter.outputs).toEqual([{ type: 'logs', logs }])
    const [answer] = (await v1.beta.threads.messages.list(thread.id, { run_id: run.id })).data
    expect(answer.role).toBe('assistant')
    expect(answer.content[0].type).toBe('text')
  })
})
