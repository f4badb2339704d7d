import OpenAI from 'openai'
import type { GraderRunResponse, GraderValidateParams } from 'openai/resources/fine-tuning/alpha/graders'
import type { ScoreModelGrader } from 'openai/resources/graders/grader-models'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeSandbox, sandboxConfig } from '../helpers/sandbox.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// POST /v1/fine_tuning/alpha/graders/run and /validate through SDK 6 (the spec file has neither
// operation: the answers are checked field by field against SDK 6's GraderRunResponse).

type Errors = GraderRunResponse.Metadata.Errors
const ERROR_KEYS = [
  'formula_parse_error', 'invalid_variable_error', 'model_grader_parse_error', 'model_grader_refusal_error',
  'model_grader_server_error', 'model_grader_server_error_details', 'other_error', 'python_grader_runtime_error',
  'python_grader_runtime_error_details', 'python_grader_server_error', 'python_grader_server_error_type',
  'sample_parse_error', 'truncated_observation_error', 'unresponsive_reward_error',
] as const satisfies readonly (keyof Errors)[]
const NO_ERRORS = Object.fromEntries(ERROR_KEYS.map((k) => [k, k.endsWith('_details') || k.endsWith('_type') ? null : false])) as unknown as Errors
const METADATA_KEYS = ['errors', 'execution_time', 'name', 'sampled_model_name', 'scores', 'token_usage', 'type'] as const satisfies readonly (keyof GraderRunResponse.Metadata)[]
const RESPONSE_KEYS = ['metadata', 'model_grader_token_usage_per_model', 'reward', 'sub_rewards'] as const satisfies readonly (keyof GraderRunResponse)[]

/** The answer has exactly SDK 6's fields, of its types. */
function checkShape(r: GraderRunResponse) {
  expect(Object.keys(r).sort()).toEqual([...RESPONSE_KEYS])
  expect(Object.keys(r.metadata).sort()).toEqual([...METADATA_KEYS])
  expect(Object.keys(r.metadata.errors).sort()).toEqual([...ERROR_KEYS])
  expect(typeof r.reward).toBe('number')
  expect(typeof r.metadata.execution_time).toBe('number')
  expect(r.metadata.execution_time).toBeGreaterThanOrEqual(0)
  expect(typeof r.metadata.name).toBe('string')
  expect(typeof r.metadata.type).toBe('string')
  for (const [k, v] of Object.entries(r.metadata.errors)) expect(typeof v === 'boolean' || v === null || typeof v === 'string', k).toBe(true)
}

let t: TestApp
let client: OpenAI
beforeAll(async () => {
  t = await createTestApp()
  client = t.client()
})
afterAll(async () => t.close())

const graders = () => client.fineTuning.alpha.graders

describe('graders run', () => {
  it('string_check on the sample and the item', async () => {
    const grader = { type: 'string_check', name: 'exact', input: '{{sample.output_text}}', reference: '{{item.answer}}', operation: 'eq' } as const
    const pass = await graders().run({ grader, model_sample: 'Paris', item: { answer: 'Paris' } })
    checkShape(pass)
    expect(pass).toMatchObject({
      reward: 1,
      metadata: { name: 'exact', type: 'string_check', errors: NO_ERRORS, scores: {}, token_usage: null, sampled_model_name: null },
      sub_rewards: {},
      model_grader_token_usage_per_model: {},
    })
    expect((await graders().run({ grader, model_sample: 'paris', item: { answer: 'Paris' } })).reward).toBe(0)
    const ilike = await graders().run({ grader: { ...grader, operation: 'ilike' }, model_sample: 'It is PARIS.', item: { answer: 'paris' } })
    expect(ilike.reward).toBe(1)
    // output_json is the sample parsed, when it is JSON; no item is an empty one
    const json = await graders().run({ grader: { ...grader, input: '{{sample.output_json.city}}', reference: 'Rome' }, model_sample: '{"city":"Rome"}' })
    expect(json.reward).toBe(1)
  })

  it('text_similarity, each metric as the Evals grader computes it', async () => {
    const grader = { type: 'text_similarity', name: 'sim', input: '{{sample.output_text}}', reference: '{{item.ref}}' } as const
    for (const metric of ['fuzzy_match', 'bleu', 'gleu', 'meteor', 'rouge_1', 'rouge_l'] as const) {
      const same = await graders().run({ grader: { ...grader, evaluation_metric: metric }, model_sample: 'the cat sat on the mat', item: { ref: 'the cat sat on the mat' } })
      checkShape(same)
      // METEOR's fragmentation penalty keeps even an identical text just under 1
      expect(same.reward, metric).toBeGreaterThan(metric === 'meteor' ? 0.99 : 0.99999)
      expect(same.reward, metric).toBeLessThanOrEqual(1)
      expect(same.metadata).toMatchObject({ name: 'sim', type: 'text_similarity', errors: NO_ERRORS })
      const other = await graders().run({ grader: { ...grader, evaluation_metric: metric }, model_sample: 'a dog ran far away', item: { ref: 'the cat sat on the mat' } })
      expect(other.reward, metric).toBeLessThan(0.5)
    }
    const half = await graders().run({ grader: { ...grader, evaluation_metric: 'rouge_1' }, model_sample: 'the cat', item: { ref: 'the cat sat down' } })
    // rouge_1 F1: precision 1, recall 0.5
    expect(half.reward).toBeCloseTo(2 / 3, 5)
  })

  it('multi: named graders combined by calculate_output, their rewards as sub_rewards', async () => {
    const r = await graders().run({
      grader: {
        type: 'multi',
        name: 'combined',
        calculate_output: '0.5 * exact + 0.5 * max(fuzzy, 0) - abs(0)',
        // OpenAI's guide sends graders by name; SDK 6 types a single grader, so the cast
        graders: {
          exact: { type: 'string_check', name: 'exact', input: '{{sample.output_text}}', reference: 'yes', operation: 'eq' },
          fuzzy: { type: 'text_similarity', name: 'fuzzy', input: '{{sample.output_text}}', reference: 'yes', evaluation_metric: 'fuzzy_match' },
        } as never,
      },
      model_sample: 'yes',
    })
    checkShape(r)
    expect(r).toMatchObject({
      reward: 1,
      metadata: { name: 'combined', type: 'multi', errors: NO_ERRORS, scores: { exact: 1, fuzzy: 1 }, token_usage: null, sampled_model_name: null },
      sub_rewards: { exact: 1, fuzzy: 1 },
      model_grader_token_usage_per_model: {},
    })
    // one grader, as SDK 6 types it: its name is the variable
    const single = await graders().run({
      grader: { type: 'multi', name: 'one', calculate_output: '2 ^ 2 * (check + 1) / 4', graders: { type: 'string_check', name: 'check', input: 'a', reference: 'b', operation: 'ne' } },
      model_sample: 'x',
    })
    expect(single.reward).toBe(2)
    expect(single.sub_rewards).toEqual({ check: 1 })
    // a formula that cannot be computed on these scores: other_error and no reward
    const nan = await graders().run({
      grader: { type: 'multi', name: 'div', calculate_output: 'check / check', graders: { type: 'string_check', name: 'check', input: 'a', reference: 'b', operation: 'eq' } },
      model_sample: 'x',
    })
    expect(nan.reward).toBe(0)
    expect(nan.metadata.errors).toEqual({ ...NO_ERRORS, other_error: true })
  })

  it('score_model on a built-in test model: its usage per model', async () => {
    const grader: ScoreModelGrader = {
      type: 'score_model',
      name: 'judge',
      model: 'test-echo',
      // test-echo answers the last user message: the item's own score
      input: [{ role: 'user', content: '{{item.score}}' }],
      range: [0, 1],
      sampling_params: { temperature: 0 },
    }
    const r = await graders().run({ grader, model_sample: 'anything', item: { score: '0.75' } })
    checkShape(r)
    expect(r.reward).toBe(0.75)
    expect(r.metadata).toMatchObject({ name: 'judge', type: 'score_model', errors: NO_ERRORS, scores: {}, sampled_model_name: 'test-echo' })
    // OpenAI's documented answer gives the tokens as an object here (SDK 6 types a number)
    const usage = r.metadata.token_usage as unknown as Record<string, number>
    expect(Object.keys(usage).sort()).toEqual(['cached_tokens', 'completion_tokens', 'prompt_tokens', 'total_tokens'])
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens)
    expect(usage.total_tokens).toBeGreaterThan(0)
    expect(r.model_grader_token_usage_per_model).toEqual({ 'test-echo': usage })
    expect(r.sub_rewards).toEqual({})
    // billed to the project as its own chat calls are
    await t.ctx.services.usage.settled()
    const billed = await t.ctx.storage.db.selectFrom('usage_records').selectAll().where('model', '=', 'test-echo').execute()
    expect(billed.reduce((n, row) => n + row.input_tokens, 0)).toBeGreaterThanOrEqual(usage.prompt_tokens)
    // an answer with no number in it
    const unread = await graders().run({ grader, model_sample: 'x', item: { score: 'no idea' } })
    expect(unread.reward).toBe(0)
    expect(unread.metadata.errors).toEqual({ ...NO_ERRORS, model_grader_parse_error: true })
    // inside a multi grader, with a label_model beside it
    const multi = await graders().run({
      grader: {
        type: 'multi',
        name: 'both',
        calculate_output: 'judge + label',
        graders: {
          judge: grader,
          label: { type: 'label_model', name: 'label', model: 'test-echo', input: [{ role: 'user', content: '{{sample.output_text}}' }], labels: ['good', 'bad'], passing_labels: ['good'] },
        } as never,
      },
      model_sample: 'good',
      item: { score: '0.5' },
    })
    expect(multi.reward).toBe(1.5)
    expect(multi.sub_rewards).toEqual({ judge: 0.5, label: 1 })
    const perModel = multi.model_grader_token_usage_per_model['test-echo'] as Record<string, number>
    expect(perModel).toEqual(multi.metadata.token_usage)
    expect(perModel.total_tokens).toBeGreaterThan(usage.total_tokens)
  })
})

describe('graders validate', () => {
  it('answers the grader for each type', async () => {
    const all: GraderValidateParams['grader'][] = [
      { type: 'string_check', name: 's', input: '{{sample.output_text}}', reference: 'x', operation: 'like' },
      { type: 'text_similarity', name: 't', input: 'a', reference: 'b', evaluation_metric: 'bleu' },
      { type: 'python', name: 'p', source: 'def grade(sample, item):\n    return 1.0' },
      { type: 'score_model', name: 'm', model: 'test-echo', input: [{ role: 'user', content: 'x' }] },
      { type: 'multi', name: 'mm', calculate_output: 'min(s, 1)', graders: { type: 'string_check', name: 's', input: 'a', reference: 'a', operation: 'eq' } },
    ]
    for (const grader of all) {
      const answer = await graders().validate({ grader })
      expect(answer, grader.type).toEqual({ grader })
      expect(Object.keys(answer)).toEqual(['grader'])
    }
  })

  it('refuses invalid graders with a 400 naming the field', async () => {
    const cases: [unknown, string | null, RegExp][] = [
      [{ type: 'string_check', name: 's', input: 'a', reference: 'b' }, 'grader.operation', /operation/],
      [{ type: 'string_check', name: 's', input: 'a', reference: 'b', operation: 'contains' }, 'grader.operation', /contains/],
      [{ type: 'text_similarity', name: 't', input: 'a', reference: 'b', evaluation_metric: 'jaccard' }, 'grader.evaluation_metric', /jaccard/],
      [{ type: 'score_model', name: 'm', model: 'no-such-model', input: [{ role: 'user', content: 'x' }] }, 'grader.model', /The model `no-such-model` does not exist or you do not have access to it\./],
      [{ type: 'label_model', name: 'l', model: 'test-echo', input: [], labels: ['a'], passing_labels: ['a'] }, 'grader.type', /label_model/],
      [{ type: 'multi', name: 'mm', calculate_output: '1 +', graders: { type: 'string_check', name: 's', input: 'a', reference: 'a', operation: 'eq' } }, 'grader.calculate_output', /Invalid 'grader.calculate_output': the formula ends too soon/],
      [{ type: 'multi', name: 'mm', calculate_output: 's + other', graders: { type: 'string_check', name: 's', input: 'a', reference: 'a', operation: 'eq' } }, 'grader.calculate_output', /'other' is not the name of one of the graders \(s\)/],
      [{ type: 'multi', name: 'mm', calculate_output: 'process(s)', graders: { type: 'string_check', name: 's', input: 'a', reference: 'a', operation: 'eq' } }, 'grader.calculate_output', /'process' is not a function/],
      [{ type: 'multi', name: 'mm', calculate_output: 'a', graders: { a: { type: 'score_model', name: 'a', model: 'nope', input: [] } } }, 'grader.graders.a.model', /nope/],
    ]
    for (const [grader, param, message] of cases) {
      for (const call of [() => graders().validate({ grader } as never), () => graders().run({ grader, model_sample: 'x' } as never)]) {
        const error = await call().catch((e) => e)
        expect(error, JSON.stringify(grader)).toBeInstanceOf(OpenAI.BadRequestError)
        expect(error.error.type).toBe('invalid_request_error')
        expect(error.error.param, JSON.stringify(grader)).toBe(param)
        expect(error.error.message).toMatch(message)
      }
    }
    const noSample = await graders().run({ grader: { type: 'string_check', name: 's', input: 'a', reference: 'b', operation: 'eq' } } as never).catch((e) => e)
    expect(noSample).toBeInstanceOf(OpenAI.BadRequestError)
    expect(noSample.error.param).toBe('model_sample')
    const noGrader = await graders().validate({} as never).catch((e) => e)
    expect(noGrader.error.param).toBe('grader')
  })

  it('cosine embeds with the project embedding model, and is refused where there is none', async () => {
    const grader = { type: 'text_similarity', name: 'cos', input: '{{sample.output_text}}', reference: 'the cat sat', evaluation_metric: 'cosine' } as const
    const same = await graders().run({ grader, model_sample: 'the cat sat' })
    checkShape(same)
    expect(same.reward).toBeCloseTo(1, 5)
    expect(same.metadata.errors).toEqual(NO_ERRORS)
    const app = await createTestApp({ vectorStores: { embeddingModel: 'no-such-embedding-model' } })
    try {
      const error = await app.client().fineTuning.alpha.graders.run({ grader, model_sample: 'x' }).catch((e) => e)
      expect(error).toBeInstanceOf(OpenAI.BadRequestError)
      expect(error.error).toEqual({ message: "The 'cosine' evaluation metric is not supported by this server.", type: 'invalid_request_error', param: 'grader.evaluation_metric', code: 'unsupported_value' })
      // validate answers whether the grader is valid, not whether this server has the model
      await expect(app.client().fineTuning.alpha.graders.validate({ grader })).resolves.toEqual({ grader })
    } finally {
      await app.close()
    }
  })
})

describeSandbox('graders run: python', () => {
  let s: TestApp
  beforeAll(async () => {
    s = await createTestApp({ codeInterpreter: sandboxConfig({ spareKernels: 0 }) })
  })
  afterAll(async () => s?.close())

  it('runs grade(sample, item) in the sandbox; a raising grader is a runtime error', async () => {
    const sandboxed = s.client().fineTuning.alpha.graders
    const source = 'def grade(sample, item):\n    if item.get("boom"):\n        raise ValueError("no score")\n    return 1.0 if sample["output_json"]["x"] == item["x"] else 0.25'
    const grader = { type: 'python', name: 'py', source } as const
    const r = await sandboxed.run({ grader, model_sample: '{"x": 3}', item: { x: 3 } })
    checkShape(r)
    expect(r).toMatchObject({ reward: 1, metadata: { name: 'py', type: 'python', errors: NO_ERRORS, token_usage: null, sampled_model_name: null }, sub_rewards: {} })
    expect((await sandboxed.run({ grader, model_sample: '{"x": 4}', item: { x: 3 } })).reward).toBe(0.25)
    const boom = await sandboxed.run({ grader, model_sample: '{"x": 4}', item: { x: 3, boom: true } })
    expect(boom.reward).toBe(0)
    expect(boom.metadata.errors.python_grader_runtime_error).toBe(true)
    expect(boom.metadata.errors.python_grader_runtime_error_details).toMatch(/no score/)
  }, 120_000)
})
