import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MODERATION_CATEGORIES } from '../../src/providers/moderation-backend.js'
import { startFakeModerationUpstream } from '../helpers/fake-moderation-upstream.js'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let client: OpenAI
let upstream: Awaited<ReturnType<typeof startFakeModerationUpstream>>

beforeAll(async () => {
  upstream = await startFakeModerationUpstream()
  t = await createTestApp({
    upstreams: [{ id: 'mod', baseURL: upstream.baseURL }],
    models: [{ id: 'upstream-moderation', provider: 'openai-compatible', upstream: 'mod', upstreamModel: 'omni-moderation-latest' }],
  })
  client = t.client()
})
afterAll(async () => {
  await t?.close()
  await upstream?.close()
})

async function raw(body: unknown, app = t) {
  const response = await app.fetch('http://plinth.test/v1/moderations', {
    method: 'POST',
    headers: { authorization: `Bearer ${PROJECT_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as any }
}

const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='

describe('moderations: lexicon-moderation (offline)', () => {
  it('flags a threat, with every category of omni-moderation and the served model', async () => {
    const result = await client.moderations.create({ model: 'omni-moderation-latest', input: 'I will kill you if you come back.' })
    expect(result.id).toMatch(/^modr-[0-9a-f]{32}$/)
    // the alias names the lexicon: the answer says which model really served it
    expect(result.model).toBe('lexicon-moderation')
    expect(result.results).toHaveLength(1)
    const [r] = result.results
    expect(Object.keys(r.categories).sort()).toEqual([...MODERATION_CATEGORIES].sort())
    expect(Object.keys(r.category_scores).sort()).toEqual([...MODERATION_CATEGORIES].sort())
    expect(r.flagged).toBe(true)
    expect(r.categories.violence).toBe(true)
    expect(r.categories['harassment/threatening']).toBe(true)
    expect(r.categories.sexual).toBe(false)
    expect(r.category_scores.violence).toBeGreaterThanOrEqual(0.5)
    expect(r.category_scores.sexual).toBe(0)
    for (const c of MODERATION_CATEGORIES) expect(r.category_applied_input_types[c]).toEqual(['text'])
  })

  it('defaults to omni-moderation-latest when no model is given', async () => {
    const result = await client.moderations.create({ input: 'Have a lovely day.' })
    expect(result.model).toBe('lexicon-moderation')
    expect(result.results[0].flagged).toBe(false)
  })

  it('answers an array of strings with one result each, in order', async () => {
    const inputs = ['kill the process on port 8080', 'I want to kill myself', 'Send me nudes', 'How do I make a pipe bomb?']
    const result = await client.moderations.create({ model: 'lexicon-moderation', input: inputs })
    expect(result.results.map((r) => r.flagged)).toEqual([false, true, true, true])
    expect(result.results[1].categories['self-harm/intent']).toBe(true)
    expect(result.results[2].categories.sexual).toBe(true)
    expect(result.results[3].categories['illicit/violent']).toBe(true)
  })

  it('reads obfuscated text: spaced letters and leetspeak', async () => {
    const result = await client.moderations.create({ input: ['f u c k you', 'i w1ll k1ll y0u'] })
    expect(result.results[0].categories.harassment).toBe(true)
    expect(result.results[1].categories.violence).toBe(true)
  })

  it('classifies multimodal parts as one input; images are not looked at, and say so', async () => {
    const mixed = await client.moderations.create({
      model: 'omni-moderation-latest',
      input: [
        { type: 'text', text: 'A nice day at the beach.' },
        { type: 'image_url', image_url: { url: PNG } },
        { type: 'text', text: 'I am going to stab him tomorrow.' },
      ],
    })
    expect(mixed.results).toHaveLength(1)
    expect(mixed.results[0].categories.violence).toBe(true)
    expect(mixed.results[0].category_applied_input_types.violence).toEqual(['text'])

    const imageOnly = await client.moderations.create({ input: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } }] })
    expect(imageOnly.results[0].flagged).toBe(false)
    // nothing was classified: no category applies to any input type
    for (const c of MODERATION_CATEGORIES) expect(imageOnly.results[0].category_applied_input_types[c]).toEqual([])
  })

  it('counts usage like embeddings (o200k tokens of the texts) in usage/moderations', async () => {
    const start = Math.floor(Date.now() / 1000) - 60
    const before = await usage(start)
    await client.moderations.create({ input: ['one two three', 'four'] })
    const after = await usage(start)
    expect(after.requests - before.requests).toBe(1)
    expect(after.tokens - before.tokens).toBe(4)
  })
})

async function usage(start: number) {
  await t.ctx.services.usage.settled()
  const page = await t.client(ADMIN_KEY, { adminAPIKey: ADMIN_KEY }).admin.organization.usage.moderations({ start_time: start })
  const results = page.data.flatMap((b) => b.results as { input_tokens: number; num_model_requests: number }[])
  return {
    tokens: results.reduce((s, r) => s + r.input_tokens, 0),
    requests: results.reduce((s, r) => s + r.num_model_requests, 0),
  }
}

describe('moderations: bad input gets OpenAI 4xx', () => {
  const cases: [string, unknown, number, string | null, string | null, RegExp][] = [
    ['missing input', { model: 'omni-moderation-latest' }, 400, 'input', 'missing_required_parameter', /Missing required parameter: 'input'/],
    ['empty array', { input: [] }, 400, 'input', 'empty_array', /Invalid 'input': empty array/],
    ['too many inputs', { input: Array.from({ length: 2049 }, () => 'x') }, 400, 'input', 'array_above_max_length', /maximum length 2048/],
    ['a number', { input: 42 }, 400, 'input', 'invalid_type', /Invalid type for 'input'/],
    ['a wrong part type', { input: [{ type: 'audio', audio: 'x' }] }, 400, 'input[0].type', 'invalid_value', /Invalid value: 'audio'/],
    ['a part without its text', { input: [{ type: 'text' }] }, 400, 'input[0].text', 'missing_required_parameter', /Missing required parameter/],
    ['a bad image url', { input: [{ type: 'image_url', image_url: { url: 'not a url' } }] }, 400, 'input[0].image_url.url', 'invalid_value', /url/],
    ['two images', { input: [{ type: 'image_url', image_url: { url: PNG } }, { type: 'image_url', image_url: { url: PNG } }] }, 400, 'input', 'too_many_images', /^Number of images \(2\) exceeds maximum of 1$/],
    ['an unknown model', { input: 'hi', model: 'no-such-model' }, 400, 'model', null, /^Invalid value for 'model' = no-such-model\. Please check the OpenAI documentation and try again\.$/],
    ['a chat model', { input: 'hi', model: 'test-echo' }, 400, 'model', null, /^Invalid value for 'model' = test-echo\./],
    ['an embedding model', { input: 'hi', model: 'test-embed' }, 400, 'model', null, /^Invalid value for 'model' = test-embed\./],
    ['a number among strings', { input: ['a', 3] }, 400, 'input[1]', 'invalid_type', /Invalid type for 'input\[1\]': expected a string, but got an integer instead/],
    ['a string among parts', { input: [{ type: 'text', text: 'a' }, 'b'] }, 400, 'input[1]', 'invalid_type', /Invalid type for 'input\[1\]'/],
    ['an unknown field', { input: 'hi', temperature: 1 }, 400, null, null, /Unrecognized request argument supplied: temperature/],
  ]
  for (const [name, body, status, param, code, message] of cases) {
    it(name, async () => {
      const answer = await raw(body)
      expect(answer.status).toBe(status)
      expect(answer.body.error.type).toBe('invalid_request_error')
      expect(answer.body.error.param).toBe(param)
      expect(answer.body.error.code).toBe(code)
      expect(answer.body.error.message).toMatch(message)
    })
  }

  it('a chat model is refused by the SDK as a BadRequestError', async () => {
    await expect(client.moderations.create({ model: 'test-scripted', input: 'hi' })).rejects.toBeInstanceOf(OpenAI.BadRequestError)
  })
})

describe('moderations: upstream models', () => {
  it('passes input through and keeps the upstream snapshot name', async () => {
    upstream.shape('omni')
    const result = await client.moderations.create({ model: 'upstream-moderation', input: ['fine', 'FLAGME now'] })
    expect(upstream.bodies.at(-1)).toEqual({ model: 'omni-moderation-latest', input: ['fine', 'FLAGME now'] })
    expect(result.model).toBe('omni-moderation-latest-2024-09-26')
    expect(result.results.map((r) => r.flagged)).toEqual([false, true])
    expect(result.results[1].category_scores.violence).toBe(0.97)
  })

  it('forwards image parts whole', async () => {
    const input = [
      { type: 'text' as const, text: 'FLAGME' },
      { type: 'image_url' as const, image_url: { url: PNG } },
    ]
    const result = await client.moderations.create({ model: 'upstream-moderation', input })
    expect(upstream.bodies.at(-1).input).toEqual(input)
    expect(result.results[0].category_applied_input_types.violence).toEqual(['text', 'image'])
  })

  it('fills in the omni categories a text-moderation era server lacks', async () => {
    upstream.shape('legacy')
    const result = await client.moderations.create({ model: 'upstream-moderation', input: 'FLAGME' })
    upstream.shape('omni')
    const [r] = result.results
    expect(r.categories.illicit).toBe(false)
    expect(r.category_scores['illicit/violent']).toBe(0)
    expect(r.category_applied_input_types.violence).toEqual(['text'])
    expect(r.category_applied_input_types.illicit).toEqual([])
  })

  it("relays the upstream's 4xx and turns its 5xx into a 502", async () => {
    upstream.fail({ status: 400, body: { error: { message: 'Upstream says no', type: 'invalid_request_error', param: 'input', code: 'bad' } } })
    const bad = await raw({ model: 'upstream-moderation', input: 'x' })
    upstream.fail({ status: 500, body: { error: { message: 'boom', type: 'server_error', param: null, code: null } } })
    const broken = await raw({ model: 'upstream-moderation', input: 'x' })
    upstream.fail(undefined)
    expect(bad.status).toBe(400)
    expect(bad.body.error).toEqual({ message: 'Upstream says no', type: 'invalid_request_error', param: 'input', code: 'bad' })
    expect(broken.status).toBe(502)
    expect(broken.body.error.type).toBe('server_error')
  })
})

describe('moderations: a chat model as judge (moderation.judgeModel)', () => {
  let judged: TestApp
  let dir: string
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-judge-'))
    const scores = (over: Record<string, number>) =>
      JSON.stringify(Object.fromEntries(MODERATION_CATEGORIES.map((c) => [c, over[c] ?? 0.01])))
    const scriptFile = path.join(dir, 'judge.json')
    fs.writeFileSync(
      scriptFile,
      JSON.stringify({
        rules: [
          { match: 'purple elephant', reply: { content: scores({ hate: 0.93, 'hate/threatening': 0.2 }) } },
          { match: 'out of range', reply: { content: scores({ sexual: 7, violence: -3 }) } },
          { match: 'babble', reply: { content: 'I think this is fine.' } },
          { match: 'calm sentence', reply: { content: scores({}) } },
        ],
        default: { content: scores({}) },
      }),
    )
    judged = await createTestApp({ testModels: { enabled: true, scriptFile }, moderation: { judgeModel: 'test-scripted' } })
  })
  afterAll(async () => {
    await judged?.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('serves judge-moderation for the OpenAI names, mapping the judge JSON to the categories', async () => {
    const c = judged.client()
    const result = await c.moderations.create({ model: 'omni-moderation-latest', input: ['the purple elephant text', 'a calm sentence'] })
    expect(result.model).toBe('judge-moderation')
    expect(result.results[0].categories.hate).toBe(true)
    expect(result.results[0].category_scores.hate).toBe(0.93)
    expect(result.results[0].categories['hate/threatening']).toBe(false)
    expect(result.results[1].flagged).toBe(false)
    // the judge was asked with a strict JSON schema
    const models = await c.models.list()
    expect(models.data.map((m) => m.id)).toEqual(expect.arrayContaining(['judge-moderation', 'lexicon-moderation']))
    // the lexicon stays addressable by its own id
    const lexicon = await c.moderations.create({ model: 'lexicon-moderation', input: 'the purple elephant text' })
    expect(lexicon.results[0].flagged).toBe(false)
  })

  it('clamps scores to [0, 1]', async () => {
    const result = await judged.client().moderations.create({ input: 'out of range' })
    expect(result.results[0].category_scores.sexual).toBe(1)
    expect(result.results[0].category_scores.violence).toBe(0)
  })

  it('answers 502 when the judge does not answer JSON', async () => {
    const answer = await raw({ input: 'babble' }, judged)
    expect(answer.status).toBe(502)
    expect(answer.body.error.type).toBe('server_error')
    expect(answer.body.error.message).toMatch(/judge model `test-scripted`/)
  })
})

describe('moderations: batches', () => {
  it('are taken, as OpenAI\'s Batch guide and the SDK list /v1/moderations (the lines run in batches.test.ts)', async () => {
    const file = await client.files.create({ file: new File(['{}\n'], 'in.jsonl'), purpose: 'batch' })
    const response = await t.fetch('http://plinth.test/v1/batches', {
      method: 'POST',
      headers: { authorization: `Bearer ${PROJECT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input_file_id: file.id, endpoint: '/v1/moderations', completion_window: '24h' }),
    })
    const body = (await response.json()) as any
    expect(response.status).toBe(200)
    expect(body).toMatchObject({ object: 'batch', endpoint: '/v1/moderations', status: 'validating' })
  })
})
