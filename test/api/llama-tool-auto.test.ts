// tool_choice 'auto' on the real model: text, then a call the model opens itself. stories260K
// never writes its template's call opener ("||call: "), so here the template is given an opener
// the model does write at temperature 0; everything after that (the name under the grammar of the
// tool names, the arguments under the tool's JSON schema, the streamed deltas) is the real path.
import { Ajv } from 'ajv'
import type { ChatWrapper } from 'node-llama-cpp'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LoadedModel } from '../../src/providers/llama-cpp/loaded-model.js'
import { CLOCK_TOOL, modelsDir, WEATHER_TOOL } from '../helpers/llama.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

const MODEL = 'stories260K'
// the opener the template is given: the model's greedy answer to `ask` below (one tool) starts
// "ister. It was a big, sh..."
let opener = 'It was'

let t: TestApp
let client: OpenAI
let dir: ReturnType<typeof modelsDir>

beforeAll(async () => {
  const original = LoadedModel.prototype.chatWrapper
  LoadedModel.prototype.chatWrapper = async function (this: LoadedModel) {
    const wrapper = await original.call(this)
    const functions = wrapper.settings.functions
    // read at each request: a test may change the opener
    const settings = {
      ...wrapper.settings,
      functions: {
        ...functions,
        call: { ...functions.call, prefix: opener, prefixAlternateMatches: [] },
        parallelism: undefined, // one call at a time
      },
    }
    return Object.assign(Object.create(wrapper) as ChatWrapper, { settings })
  }
  dir = modelsDir([`${MODEL}.gguf`])
  t = await createTestApp({
    llama: { modelsDir: dir.dir, defaults: { threads: 1, contextSize: 1024, sequences: 1 } },
  })
  client = t.client()
})
afterAll(async () => {
  await t?.close()
  dir?.remove()
})

const weather = WEATHER_TOOL
const ask = {
  model: MODEL,
  max_tokens: 80,
  temperature: 0,
  messages: [{ role: 'user' as const, content: 'What is the weather in Paris?' }],
  tools: [weather],
}

const clock = CLOCK_TOOL
const schemaOf = (name: string) =>
  [weather, clock].find((tool) => tool.function.name === name)!.function.parameters

describe("llama-cpp: tool_choice 'auto' on the real model", () => {
  it('answers in text until the model opens a call, then calls with arguments that satisfy the schema', async () => {
    const answer = await client.chat.completions.create({ ...ask, tool_choice: 'auto' })
    const choice = answer.choices[0]
    expect(choice.finish_reason).toBe('tool_calls')
    // the text before the opener is the answer's content; the opener itself is not
    expect(choice.message.content).toBe('ister. ')
    expect(choice.message.tool_calls).toHaveLength(1)
    const call = choice.message.tool_calls![0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall
    expect(call).toMatchObject({ type: 'function', function: { name: 'get_weather' } })
    expect(call.id).toMatch(/^call_/)
    expect(new Ajv().validate(weather.function.parameters, JSON.parse(call.function.arguments))).toBe(
      true,
    )
    expect(answer.usage!.completion_tokens).toBeGreaterThan(0)
  })

  it('streams the text as content deltas, then the call as tool-call deltas', async () => {
    const whole = await client.chat.completions.create({ ...ask, tool_choice: 'auto' })
    const expected = whole.choices[0].message
      .tool_calls![0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall
    const stream = await client.chat.completions.create({ ...ask, stream: true })
    let content = ''
    const calls: OpenAI.Chat.ChatCompletionChunk.Choice.Delta.ToolCall[] = []
    let finish: string | null = null
    let contentAfterCall = false
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta
      if (delta?.content && calls.length) contentAfterCall = true
      content += delta?.content ?? ''
      calls.push(...(delta?.tool_calls ?? []))
      finish = chunk.choices[0]?.finish_reason ?? finish
    }
    expect(content).toBe('ister. ')
    expect(contentAfterCall).toBe(false)
    expect(calls[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather' } })
    expect(calls[0].id).toMatch(/^call_/)
    expect(calls.every((c) => c.index === 0)).toBe(true)
    expect(calls.map((c) => c.function?.arguments ?? '').join('')).toBe(expected.function.arguments)
    expect(finish).toBe('tool_calls')
  })

  it('picks the function under the grammar of the tool names when there are several', async () => {
    // with two tools the prompt differs, and so does the answer: "ister, a little boy, a little
    // girl named Lily went to the park..."
    opener = 'went to'
    const answer = await client.chat.completions
      .create({ ...ask, tools: [weather, clock] })
      .finally(() => (opener = 'It was'))
    const choice = answer.choices[0]
    expect(choice.message.content).toBe('ister, a little boy, a little girl named Lily ')
    expect(choice.finish_reason).toBe('tool_calls')
    for (const call of choice.message.tool_calls as OpenAI.Chat.ChatCompletionMessageFunctionToolCall[]) {
      expect(['get_weather', 'get_time']).toContain(call.function.name)
      expect(new Ajv().validate(schemaOf(call.function.name), JSON.parse(call.function.arguments))).toBe(
        true,
      )
    }
  })

  it('stays in text when max_tokens ends the answer before the opener', async () => {
    const answer = await client.chat.completions.create({ ...ask, max_tokens: 2 })
    expect(answer.choices[0].message.tool_calls).toBeUndefined()
    expect(answer.choices[0].message.content!.length).toBeGreaterThan(0)
    expect(answer.choices[0].finish_reason).toBe('length')
  })
})
