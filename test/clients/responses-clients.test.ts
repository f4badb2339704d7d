import { createOpenAI } from '@ai-sdk/openai'
import { Agent, run, setDefaultOpenAIClient, setTracingDisabled, tool as agentTool } from '@openai/agents'
import { generateObject, generateText, stepCountIs, streamText, tool } from 'ai'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// Clients no one here wrote, against Plinth's Responses API on test-scripted (docs/models.md):
// the Vercel AI SDK 5's default OpenAI provider (which calls /v1/responses) and OpenAI's Agents
// SDK. Every request they make goes over HTTP through the validating fetch.

let t: TestApp
beforeAll(async () => {
  t = await createTestApp({}, { transport: 'http' })
})
afterAll(async () => t.close())

describe('Vercel AI SDK 5, default OpenAI provider', () => {
  const model = () => createOpenAI({ baseURL: `${t.url}/v1`, apiKey: PROJECT_KEY, fetch: t.fetch })('test-scripted')

  it('generateText', async () => {
    const result = await generateText({ model: model(), prompt: 'hello there' })
    expect(result.text).toBe('Hello! How can I help you today?')
    expect(result.finishReason).toBe('stop')
    expect(result.usage.outputTokens).toBeGreaterThan(0)
    expect(result.response.id).toMatch(/^resp_/)
  })

  it('streamText with a tool: the call, its result, then the answer', async () => {
    const calls: unknown[] = []
    const result = streamText({
      model: model(),
      prompt: 'what is the weather in Paris?',
      tools: {
        get_weather: tool({
          description: 'The weather in a city',
          inputSchema: z.object({ city: z.string(), unit: z.enum(['celsius', 'fahrenheit']) }),
          execute: async (input) => {
            calls.push(input)
            return { temperature: 21, unit: input.unit }
          },
        }),
      },
      stopWhen: stepCountIs(3),
    })
    let text = ''
    for await (const delta of result.textStream) text += delta
    expect(calls).toEqual([{ city: 'Paris', unit: 'celsius' }])
    expect(text).toBe('Tool results: get_weather: {"temperature":21,"unit":"celsius"}')
    expect((await result.steps).length).toBe(2)
  })

  it('generateObject with a zod schema', async () => {
    const { object } = await generateObject({
      model: model(),
      schema: z.object({ city: z.string(), population: z.number().int(), landmarks: z.array(z.string()) }),
      prompt: 'Describe a city as JSON.',
    })
    expect(typeof object.city).toBe('string')
    expect(Number.isInteger(object.population)).toBe(true)
    expect(Array.isArray(object.landmarks)).toBe(true)
  })
})

describe('@openai/agents', () => {
  beforeAll(() => {
    setTracingDisabled(true)
    setDefaultOpenAIClient(new OpenAI({ apiKey: PROJECT_KEY, baseURL: `${t.url}/v1`, fetch: t.fetch, maxRetries: 0 }) as never)
  })

  it('runs an agent with a function tool', async () => {
    const calls: unknown[] = []
    const getWeather = agentTool({
      name: 'get_weather',
      description: 'The weather in a city',
      parameters: z.object({ city: z.string(), unit: z.enum(['celsius', 'fahrenheit']) }),
      execute: async (input) => {
        calls.push(input)
        return `It is 21 degrees ${input.unit} in ${input.city}.`
      },
    })
    const agent = new Agent({ name: 'Weather', instructions: 'Answer about the weather.', model: 'test-scripted', tools: [getWeather] })
    const result = await run(agent, 'what is the weather in Paris?')
    expect(calls).toEqual([{ city: 'Paris', unit: 'celsius' }])
    expect(result.finalOutput).toBe('Tool results: get_weather: It is 21 degrees celsius in Paris.')
  })

  it('hands off from a triage agent to another one', async () => {
    const weather = new Agent({ name: 'Weather agent', instructions: 'You answer about the weather.', model: 'test-scripted' })
    const triage = new Agent({ name: 'Triage', instructions: 'Route the user.', model: 'test-scripted', handoffs: [weather] })
    const result = await run(triage, 'please transfer to weather agent')
    expect(result.lastAgent?.name).toBe('Weather agent')
    expect(String(result.finalOutput)).toBe('Tool results: transfer_to_Weather_agent: {"assistant":"Weather agent"}')
  })
})
