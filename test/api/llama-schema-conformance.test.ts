import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import fc from 'fast-check'
import {
  getLlama,
  Llama,
  LlamaGrammarEvaluationState,
  LlamaLogLevel,
  type LlamaContextSequence,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiError } from '../../src/errors.js'
import { compileSchema } from '../../src/providers/llama-cpp/json-schema.js'
import { modelsDir, requireStories } from '../helpers/llama.js'
import { responseSchema, toolParameters } from '../helpers/schema-arbitrary.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// Issue 19's guarantee, checked as a property: random schemas from OpenAI's strict subset,
// answers sampled at temperature 1 from the tiny model under each schema's grammar, every
// complete answer valid by Ajv (an independent validator). Counts are tuned to ~1 minute on
// one thread; PLINTH_CONFORMANCE_RUNS raises them.
const RUNS = Number(process.env.PLINTH_CONFORMANCE_RUNS ?? 150)
const SEEDS = [1, 2, 3]
const MAX_TOKENS = 160

// multipleOf as a mathematical multiple: 0.3 is a multiple of 0.1, which doubles deny
const ajv = addFormats.default(new Ajv2020({ strict: false, multipleOfPrecision: 9 }))

let llama: Llama
let model: LlamaModel
let sequence: LlamaContextSequence
let prompt: Token[]

beforeAll(async () => {
  llama = await getLlama({ gpu: false, build: 'never', skipDownload: true, logLevel: LlamaLogLevel.error })
  model = await llama.loadModel({ modelPath: requireStories() })
  const context = await model.createContext({ contextSize: 512, threads: 1 })
  sequence = context.getSequence()
  prompt = [model.tokens.bos!, ...model.tokenize('Once upon a time, the answer was')]
}, 60_000)
afterAll(async () => {
  await llama?.dispose()
})

/** One answer under the grammar; undefined when max tokens cut it off. */
async function sampleAnswer(gbnf: string, seed: number): Promise<string | undefined> {
  const grammar = await llama.createGrammar({ grammar: gbnf })
  const state = new LlamaGrammarEvaluationState({ model, grammar })
  await sequence.clearHistory()
  const out: Token[] = []
  for await (const token of sequence.evaluate(prompt, { temperature: 1, seed, grammarEvaluationState: state })) {
    if (model.isEogToken(token)) return model.detokenize(out)
    out.push(token)
    if (out.length >= MAX_TOKENS) return undefined
  }
  return model.detokenize(out)
}

type Tally = { schemas: number; refused: number; answers: number; cut: number; violations: string[] }

async function conformance(arbitrary: fc.Arbitrary<Record<string, unknown>>, seed: number) {
  const tally: Tally = { schemas: 0, refused: 0, answers: 0, cut: 0, violations: [] }
  const schemas = fc.sample(arbitrary, { seed, numRuns: RUNS })
  for (const schema of schemas) {
    tally.schemas++
    let gbnf: string
    try {
      gbnf = compileSchema(schema, 'response_format.json_schema.schema').grammar
    } catch (error) {
      // refusals are 400s naming the keyword (an empty numeric range, a too-large multiple)
      expect(error).toBeInstanceOf(ApiError)
      expect((error as ApiError).status).toBe(400)
      tally.refused++
      continue
    }
    const validate: ValidateFunction = ajv.compile(schema)
    for (const s of SEEDS) {
      const text = await sampleAnswer(gbnf, s)
      if (text === undefined) {
        tally.cut++
        continue
      }
      tally.answers++
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch {
        tally.violations.push(`${JSON.stringify(schema)} → unparsable ${text}`)
        continue
      }
      if (!validate(value))
        tally.violations.push(`${JSON.stringify(schema)} → ${text} (${ajv.errorsText(validate.errors)})`)
    }
  }
  return tally
}

describe('llama-cpp grammars: every sampled answer satisfies its schema', () => {
  it(
    'response_format json_schema: random schemas of the strict subset, temperature 1',
    async () => {
      const tally = await conformance(responseSchema, 19)
      console.log('response_format conformance', { ...tally, violations: tally.violations.length })
      expect(tally.violations).toEqual([])
      // the property says something only if most schemas compile and most answers complete
      expect(tally.refused).toBeLessThan(tally.schemas * 0.1)
      expect(tally.answers).toBeGreaterThan((tally.schemas - tally.refused) * SEEDS.length * 0.6)
    },
    240_000,
  )

  it(
    'strict tool parameters: random object schemas, temperature 1',
    async () => {
      const tally = await conformance(toolParameters, 20)
      console.log('tool parameters conformance', { ...tally, violations: tally.violations.length })
      expect(tally.violations).toEqual([])
      expect(tally.answers).toBeGreaterThan((tally.schemas - tally.refused) * SEEDS.length * 0.5)
    },
    240_000,
  )
})

describe('through the API: response_format and strict tool calls are checked by Ajv', () => {
  let t: TestApp
  let client: OpenAI
  let dir: ReturnType<typeof modelsDir>
  beforeAll(async () => {
    dir = modelsDir(['stories260K.gguf'])
    t = await createTestApp({
      llama: { modelsDir: dir.dir, defaults: { threads: 1, contextSize: 1024, sequences: 1 } },
    })
    client = t.client()
  })
  afterAll(async () => {
    await t?.close()
    dir?.remove()
  })

  it('answers and tool arguments validate, the reported integer schema included', async () => {
    const reported = {
      type: 'object',
      properties: { a: { type: 'integer' }, b: { type: 'integer' } },
      required: ['a', 'b'],
      additionalProperties: false,
    }
    const schemas = [reported, ...fc.sample(toolParameters, { seed: 7, numRuns: 8 })]
    let checked = 0
    for (const [i, schema] of schemas.entries()) {
      const validate = ajv.compile(schema)
      const answer = await client.chat.completions.create({
        model: 'stories260K',
        messages: [{ role: 'user', content: 'Once upon a time' }],
        temperature: 1,
        seed: i,
        max_tokens: 200,
        response_format: { type: 'json_schema', json_schema: { name: 'out', strict: true, schema } },
      })
      if (answer.choices[0].finish_reason === 'stop') {
        expect(validate(JSON.parse(answer.choices[0].message.content!)), answer.choices[0].message.content!).toBe(true)
        checked++
      }
      const called = await client.chat.completions.create({
        model: 'stories260K',
        messages: [{ role: 'user', content: 'Once upon a time' }],
        temperature: 1,
        seed: i,
        max_tokens: 300,
        tools: [{ type: 'function', function: { name: 'f', strict: true, parameters: schema } }],
        tool_choice: { type: 'function', function: { name: 'f' } },
      })
      if (called.choices[0].finish_reason === 'tool_calls') {
        const call = called.choices[0].message.tool_calls![0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall
        expect(validate(JSON.parse(call.function.arguments)), call.function.arguments).toBe(true)
        checked++
      }
    }
    expect(checked).toBeGreaterThan(schemas.length)
  }, 120_000)
})
