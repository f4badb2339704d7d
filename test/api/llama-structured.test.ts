import { Ajv } from 'ajv'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLOCK_TOOL, modelsDir, streamedText, WEATHER_TOOL } from '../helpers/llama.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// Output constrained by grammar (JSON schemas, tool calls), on the vendored tiny model
const MODEL = 'stories260K'

let t: TestApp
let client: OpenAI
let dir: ReturnType<typeof modelsDir>

beforeAll(async () => {
  dir = modelsDir([`${MODEL}.gguf`])
  t = await createTestApp({
    llama: { modelsDir: dir.dir, defaults: { threads: 1, contextSize: 1024, sequences: 2 } },
  })
  client = t.client()
})
afterAll(async () => {
  await t.close()
  dir.remove()
})

describe('llama-cpp: JSON output', () => {
  const ask = {
    model: MODEL,
    messages: [{ role: 'user' as const, content: 'Tell me a story about a cat.' }],
    max_tokens: 24,
    temperature: 0,
  }

  it('constrains json_schema output by grammar: it parses and validates', async () => {
    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string', maxLength: 12 },
        age: { type: 'integer' },
        mood: { enum: ['happy', 'sad'] },
        tags: { type: 'array', items: { type: 'string', maxLength: 6 }, maxItems: 2 },
      },
      required: ['name', 'age', 'mood', 'tags'],
      additionalProperties: false,
    }
    const params = {
      ...ask,
      max_tokens: 80,
      messages: [{ role: 'user' as const, content: 'Describe a person.' }],
      response_format: {
        type: 'json_schema' as const,
        json_schema: { name: 'person', schema, strict: true },
      },
    }
    const answer = await client.chat.completions.create(params)
    expect(answer.choices[0].finish_reason).toBe('stop')
    const value = JSON.parse(answer.choices[0].message.content!)
    expect(new Ajv().validate(schema, value)).toBe(true)
    expect((await streamedText(client, params)).text).toBe(answer.choices[0].message.content)
  })

  it('constrains json_object output to a JSON object', async () => {
    const answer = await client.chat.completions.create({
      ...ask,
      max_tokens: 60,
      messages: [{ role: 'user', content: 'Reply in JSON.' }],
      response_format: { type: 'json_object' },
    })
    if (answer.choices[0].finish_reason === 'stop')
      expect(typeof JSON.parse(answer.choices[0].message.content!)).toBe('object')
    expect(answer.choices[0].message.content!.startsWith('{')).toBe(true)
  })

  it('refuses a schema keyword the grammar cannot enforce, and image input', async () => {
    await expect(
      client.chat.completions.create({
        ...ask,
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'x',
            schema: { type: 'object', properties: { a: { type: 'array', uniqueItems: true } } },
          },
        },
      }),
    ).rejects.toMatchObject({
      status: 400,
      param: 'response_format.json_schema.schema',
      message: expect.stringMatching(/'uniqueItems' at 'properties\.a'/),
    })
    await expect(
      client.chat.completions.create({
        ...ask,
        messages: [
          {
            role: 'user',
            content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }],
          },
        ],
      }),
    ).rejects.toMatchObject({ status: 400, param: 'messages[0].content' })
  })
})

describe('llama-cpp: tool calls', () => {
  const weather = WEATHER_TOOL
  const clock = CLOCK_TOOL
  const ask = {
    model: MODEL,
    max_tokens: 60,
    temperature: 0,
    messages: [{ role: 'user' as const, content: 'What is the weather in Paris?' }],
    tools: [weather, clock],
  }

  it('produces a call in OpenAI shape when tool_choice requires one; arguments satisfy the schema', async () => {
    const answer = await client.chat.completions.create({ ...ask, tool_choice: 'required' })
    const choice = answer.choices[0]
    expect(choice.finish_reason).toBe('tool_calls')
    expect(choice.message.content).toBeNull()
    const call = choice.message.tool_calls![0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall
    expect(call.id).toMatch(/^call_/)
    expect(['get_weather', 'get_time']).toContain(call.function.name)
    const schema = [weather, clock].find((tool) => tool.function.name === call.function.name)!
      .function.parameters
    expect(new Ajv().validate(schema, JSON.parse(call.function.arguments))).toBe(true)
  })

  it('calls the function named by tool_choice, and streams it as deltas', async () => {
    const params = {
      ...ask,
      tool_choice: { type: 'function' as const, function: { name: 'get_weather' } },
    }
    const answer = await client.chat.completions.create(params)
    const call = answer.choices[0].message
      .tool_calls![0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall
    expect(call.function.name).toBe('get_weather')
    const args = JSON.parse(call.function.arguments)
    expect(new Ajv().validate(weather.function.parameters, args)).toBe(true)

    const stream = await client.chat.completions.create({ ...params, stream: true })
    const deltas: OpenAI.Chat.ChatCompletionChunk.Choice.Delta.ToolCall[] = []
    let finish: string | null = null
    for await (const chunk of stream) {
      deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? []))
      finish = chunk.choices[0]?.finish_reason ?? finish
    }
    expect(deltas[0]).toMatchObject({
      index: 0,
      type: 'function',
      function: { name: 'get_weather' },
    })
    expect(deltas.length).toBeGreaterThan(2)
    expect(deltas.map((d) => d.function?.arguments ?? '').join('')).toBe(call.function.arguments)
    expect(finish).toBe('tool_calls')
  })

  it("lets the model answer in text with tool_choice 'auto' (this tiny model never opens a call)", async () => {
    const answer = await client.chat.completions.create({ ...ask, max_tokens: 10 })
    expect(answer.choices[0].message.tool_calls).toBeUndefined()
    expect(answer.choices[0].message.content!.length).toBeGreaterThan(0)
    expect(answer.choices[0].finish_reason).toBe('length')
  })

  it('continues a conversation after a tool result', async () => {
    const answer = await client.chat.completions.create({
      ...ask,
      max_tokens: 8,
      messages: [
        ...ask.messages,
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"c"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temperature":21}' },
      ],
      tool_choice: 'none',
    })
    expect(answer.choices[0].message.role).toBe('assistant')
    expect(answer.usage!.prompt_tokens).toBeGreaterThan(20)
  })
})
