import OpenAI, { toFile } from 'openai'
import { zodFunction, zodResponseFormat } from 'openai/helpers/zod'
import type {
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { rawJson } from '../helpers/assistants.js'
import { createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// Objects the API returned, sent back in the next request as clients do (issue 11, item 1):
// OpenAI accepts and ignores their response-only keys, and still rejects any other unknown key.

let t: TestApp
let client: OpenAI
beforeAll(async () => {
  t = await createTestApp()
  client = t.client()
  t.ctx.jobs.start()
})
afterAll(async () => t.close())

const weatherTool: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
      },
      required: ['city', 'unit'],
      additionalProperties: false,
    },
  },
}

const question: ChatCompletionMessageParam = {
  role: 'user',
  content: 'What is the weather in Paris?',
}

/** The assistant's message calling get_weather, as the API returns it. */
async function weatherCall() {
  const model = 'test-scripted'
  const tools = [weatherTool]
  const first = await client.chat.completions.create({ model, messages: [question], tools })
  const message = first.choices[0].message
  const call = message.tool_calls![0]
  if (call.type !== 'function') throw new Error('expected a function call')
  return { message, call }
}

async function jsonlOf(fileId: string): Promise<any[]> {
  const text = await (await client.files.content(fileId)).text()
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
}

/** A raw chat request, for bodies the SDK's types would not let through. */
async function chatRaw(body: unknown) {
  const res = await t.fetch('http://plinth.test/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${PROJECT_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.status, body: await res.json() }
}

describe('the agent loop: the returned message pushed back as is', () => {
  it('completion.choices[0].message with its tool calls, then the tool result', async () => {
    const messages: ChatCompletionMessageParam[] = [question]
    const tools = [weatherTool]
    const first = await client.chat.completions.create({ model: 'test-scripted', messages, tools })
    const message = first.choices[0].message
    // the response-only keys are on the message that goes back
    expect(message).toMatchObject({ content: null, refusal: null, annotations: [] })
    expect(message.tool_calls).toHaveLength(1)
    messages.push(message)
    for (const call of message.tool_calls!) {
      messages.push({ role: 'tool', tool_call_id: call.id, content: '21 degrees and sunny' })
    }
    const second = await client.chat.completions.create({ model: 'test-scripted', messages, tools })
    expect(second.choices[0].finish_reason).toBe('stop')
    const reply = second.choices[0].message.content
    expect(reply).toBe('Tool results: get_weather: 21 degrees and sunny')

    // and once more with the final answer pushed back too, streamed this time
    messages.push(second.choices[0].message, { role: 'user', content: 'hello again' })
    const stream = client.chat.completions.stream({ model: 'test-scripted', messages })
    expect((await stream.finalMessage()).content).toBe('Hello! How can I help you today?')
  })

  it('runTools completes and gives the final content', async () => {
    const seen: unknown[] = []
    const runner = client.chat.completions.runTools({
      model: 'test-scripted',
      messages: [question],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Current weather in a city',
            function: async (args: { city: string; unit: string }) => {
              seen.push(args)
              return `${args.city}: 21 ${args.unit}`
            },
            parse: JSON.parse,
            parameters: weatherTool.function.parameters!,
          },
        },
      ],
    })
    expect(await runner.finalContent()).toBe('Tool results: get_weather: Paris: 21 celsius')
    expect(seen).toEqual([{ city: 'Paris', unit: 'celsius' }])
    // the runner sent its own messages back: the assistant's tool call and the tool's result
    expect(runner.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant'])
    // SDK 6 strips its own keys before sending; earlier versions, and loops that reuse the
    // runner's messages, send them as the runner keeps them: with parsed and parsed_arguments
    type Kept = { parsed: unknown; tool_calls: { function: object }[] }
    const kept = runner.messages[1] as unknown as Kept
    expect(kept).toHaveProperty('parsed')
    expect(kept.tool_calls[0].function).toHaveProperty('parsed_arguments')
    const next = await client.chat.completions.create({
      model: 'test-scripted',
      messages: [...runner.messages, { role: 'user', content: 'hello' }],
      tools: [weatherTool],
    })
    expect(next.choices[0].message.content).toBe('Hello! How can I help you today?')
  })

  it('the parse() helpers: a message with parsed and parsed_arguments goes back', async () => {
    const Weather = z.object({ city: z.string(), unit: z.enum(['celsius', 'fahrenheit']) })
    const messages: ChatCompletionMessageParam[] = [question]
    const tools = [zodFunction({ name: 'get_weather', parameters: Weather })]
    const first = await client.chat.completions.parse({ model: 'test-scripted', messages, tools })
    const message = first.choices[0].message
    expect(message.parsed).toBeNull()
    const parsedArguments = message.tool_calls![0].function.parsed_arguments
    expect(parsedArguments).toEqual({ city: 'Paris', unit: 'celsius' })
    const toolCallId = message.tool_calls![0].id
    messages.push(message, { role: 'tool', tool_call_id: toolCallId, content: 'sunny' })

    const second = await client.chat.completions.parse({
      model: 'test-scripted',
      messages,
      tools,
    })
    expect(second.choices[0].message.content).toBe('Tool results: get_weather: sunny')
    const Answer = z.object({ reply: z.string() })
    // a structured answer pushed back: `parsed` holds an object
    const third = await client.chat.completions.parse({
      model: 'test-scripted',
      messages: [{ role: 'user', content: 'Describe it.' }],
      response_format: zodResponseFormat(Answer, 'answer'),
    })
    expect(Answer.safeParse(third.choices[0].message.parsed).success).toBe(true)
    const fourth = await client.chat.completions.create({
      model: 'test-scripted',
      messages: [
        { role: 'user', content: 'Describe it.' },
        third.choices[0].message,
        { role: 'user', content: 'hello' },
      ],
    })
    expect(fourth.choices[0].message.content).toBe('Hello! How can I help you today?')
  })

  it('what accumulators and other SDKs keep: tool-call index, audio data, nulls', async () => {
    const { status, body } = await chatRaw({
      model: 'test-scripted',
      messages: [
        question,
        {
          role: 'assistant',
          content: null,
          refusal: null,
          annotations: [
            {
              type: 'url_citation',
              url_citation: { start_index: 0, end_index: 1, title: 't', url: 'https://x.test' },
            },
          ],
          audio: null,
          function_call: null,
          parsed: null,
          tool_calls: [
            {
              index: 0,
              id: 'call_1',
              type: 'function',
              function: {
                name: 'get_weather',
                arguments: '{"city":"Paris"}',
                parsed_arguments: { city: 'Paris' },
              },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'rain' },
        {
          role: 'assistant',
          content: 'It rains.',
          audio: { id: 'audio_1', data: 'AAAA', expires_at: 1, transcript: 'It rains.' },
        },
        { role: 'user', content: 'hello' },
      ],
    })
    expect(status).toBe(200)
    expect(body.choices[0].message.content).toBe('Hello! How can I help you today?')
  })

  it('stored completions keep the messages without the ignored keys', async () => {
    const { message, call } = await weatherCall()
    const echoed = {
      ...message,
      parsed: null,
      tool_calls: [{ ...call, index: 0, function: { ...call.function, parsed_arguments: {} } }],
    }
    const toolResult = { role: 'tool' as const, tool_call_id: call.id, content: 'fog' }
    const stored = await client.chat.completions.create({
      model: 'test-scripted',
      store: true,
      tools: [weatherTool],
      messages: [question, echoed as ChatCompletionMessageParam, toolResult],
    })
    const path = `/chat/completions/${stored.id}/messages`
    const { body } = await rawJson(t, 'GET', path, { beta: null })
    const assistant = body.data.find((m: { role: string }) => m.role === 'assistant')
    expect(assistant).toBeDefined()
    for (const key of ['annotations', 'parsed']) expect(assistant).not.toHaveProperty(key)
    expect(assistant.tool_calls[0]).not.toHaveProperty('index')
    expect(assistant.tool_calls[0].function).not.toHaveProperty('parsed_arguments')
  })
})

describe('what stays a 400', () => {
  it('an unknown top-level argument, in OpenAI words', async () => {
    const body = { model: 'test-scripted', messages: [question], annotations: [] }
    const { status, body: answer } = await chatRaw(body)
    expect(status).toBe(400)
    expect(answer.error).toEqual({
      message: 'Unrecognized request argument supplied: annotations',
      type: 'invalid_request_error',
      param: null,
      code: null,
    })
  })

  it('a nested key no response has (OpenAI rejects these too)', async () => {
    const cases: [unknown, string][] = [
      [{ role: 'assistant', content: 'x', reasoning: 'y' }, 'messages[0].reasoning'],
      [{ role: 'user', content: 'x', annotations: [] }, 'messages[0].annotations'],
      [
        { role: 'user', content: [{ type: 'text', text: 'x', cache_control: {} }] },
        'messages[0].content[0].cache_control',
      ],
      [
        {
          role: 'assistant',
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '', x: 1 } }],
        },
        'messages[0].tool_calls[0].function.x',
      ],
      [
        { role: 'assistant', content: 'x', audio: { id: 'a', format: 'wav' } },
        'messages[0].audio.format',
      ],
    ]
    for (const [message, param] of cases) {
      const { status, body } = await chatRaw({ model: 'test-scripted', messages: [message] })
      expect(status, param).toBe(400)
      expect(body.error).toEqual({
        message: `Unknown parameter: '${param}'.`,
        type: 'invalid_request_error',
        param,
        code: 'unknown_parameter',
      })
    }
  })

  it('a response-only key still has to sit where responses put it', async () => {
    const { body } = await chatRaw({
      model: 'test-scripted',
      messages: [{ role: 'tool', tool_call_id: 'c', content: 'x', parsed_arguments: {} }],
    })
    expect(body.error.param).toBe('messages[0].parsed_arguments')
  })
})

describe('batch lines take the same round trip', () => {
  it('a line with an echoed assistant message completes', async () => {
    const { message, call } = await weatherCall()
    const line = {
      custom_id: 'loop',
      method: 'POST',
      url: '/v1/chat/completions',
      body: {
        model: 'test-scripted',
        tools: [weatherTool],
        messages: [
          question,
          { ...message, parsed: null, tool_calls: [{ ...call, index: 0 }] },
          { role: 'tool', tool_call_id: call.id, content: 'snow' },
        ],
      },
    }
    const bad = { ...line, custom_id: 'bad', body: { ...line.body, top_k: 3 } }
    const text = [line, bad].map((l) => JSON.stringify(l)).join('\n') + '\n'
    const file = await client.files.create({
      file: await toFile(Buffer.from(text), 'in.jsonl'),
      purpose: 'batch',
    })
    const batch = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    })
    const deadline = Date.now() + 20_000
    let done = batch
    while (!['completed', 'failed'].includes(done.status) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25))
      done = await client.batches.retrieve(batch.id)
    }
    expect(done.status).toBe('completed')
    expect(done.request_counts).toEqual({ total: 2, completed: 1, failed: 1 })
    const [output] = await jsonlOf(done.output_file_id!)
    expect(output.response.status_code).toBe(200)
    const reply = output.response.body.choices[0].message.content
    expect(reply).toBe('Tool results: get_weather: snow')
    const [error] = await jsonlOf(done.error_file_id!)
    expect(error).toMatchObject({ custom_id: 'bad', response: { status_code: 400 } })
    const message400 = error.response.body.error.message
    expect(message400).toBe('Unrecognized request argument supplied: top_k')
  })
})

describe('assistants: objects echoed from responses', () => {
  it('an assistant’s and a run’s settings go back into update and a new run', async () => {
    const functionTool = weatherTool as OpenAI.Beta.FunctionTool
    const assistant = await client.beta.assistants.create({
      model: 'test-scripted',
      tools: [functionTool, { type: 'file_search' }, { type: 'code_interpreter' }],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'x', schema: { type: 'object' }, strict: false },
      },
    })
    const updated = await client.beta.assistants.update(assistant.id, {
      tools: assistant.tools,
      tool_resources: assistant.tool_resources,
      response_format: assistant.response_format,
      metadata: assistant.metadata,
    })
    expect(updated.tools).toEqual(assistant.tools)

    // Plinth runs no file_search or code_interpreter yet: the run echoes a function tool's settings
    await client.beta.assistants.update(assistant.id, { tools: [functionTool] })
    const hello = { role: 'user' as const, content: 'hello' }
    const thread = await client.beta.threads.create({ messages: [hello] })
    const poll = { pollIntervalMs: 20 }
    const run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      poll,
    )
    const again = await client.beta.threads.runs.createAndPoll(
      thread.id,
      {
        assistant_id: run.assistant_id,
        model: run.model,
        instructions: run.instructions,
        tools: run.tools,
        tool_choice: run.tool_choice,
        truncation_strategy: run.truncation_strategy,
        response_format: run.response_format,
        parallel_tool_calls: run.parallel_tool_calls,
        temperature: run.temperature,
        top_p: run.top_p,
        max_prompt_tokens: run.max_prompt_tokens,
        max_completion_tokens: run.max_completion_tokens,
        metadata: run.metadata,
        additional_messages: [{ role: 'user', content: 'hello' }],
      },
      poll,
    )
    expect(run.status, JSON.stringify(run.last_error)).toBe('completed')
    expect(again.status, JSON.stringify(again.last_error)).toBe('completed')
  })

  it('a listed message is not a message to create: OpenAI answers Unknown parameter', async () => {
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'hi' }] })
    const [listed] = (await client.beta.threads.messages.list(thread.id)).data
    const { status, body } = await rawJson(t, 'POST', '/threads', { body: { messages: [listed] } })
    expect(status).toBe(400)
    expect(body.error).toMatchObject({
      message: "Unknown parameter: 'messages[0].id'.",
      param: 'messages[0].id',
    })
    const run = await rawJson(t, 'POST', `/threads/${thread.id}/runs`, {
      body: { assistant_id: 'asst_x', additional_messages: [listed] },
    })
    expect(run.body.error.param).toBe('additional_messages[0].id')
  })
})
