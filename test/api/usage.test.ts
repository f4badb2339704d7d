import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { UsageEntry } from '../../src/domain/inference/usage.js'
import type { Principal } from '../../src/principal.js'
import { otherProjectClient } from '../helpers/other-project.js'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// The usage and costs endpoints: usage made through the test models (live) and recorded at fixed
// times (for the operations Plinth does not serve yet, and to place usage in known buckets), then
// queried with every parameter. Every response is validated against the spec.

const DAY = 86_400
const HOUR = 3600
// 2024-11-01T00:00:00Z, a day boundary
const T0 = 1_730_419_200

let t: TestApp
let projectId: string
let principal: Principal
let userPrincipal: Principal
let otherProject: string

const admin = () => t.client(ADMIN_KEY, { adminAPIKey: ADMIN_KEY }).admin.organization
const ownerUserId = () => t.ctx.organization.owner_user_id!

/** The results of one bucket, as plain records (the SDK types them as a union of every kind). */
const results = (page: { data: { results: unknown[] }[] }, bucket = 0) => page.data[bucket].results as Record<string, any>[]

async function get(path: string, key = ADMIN_KEY) {
  const response = await t.fetch(`http://plinth.test/v1/organization/${path}`, { headers: { authorization: `Bearer ${key}` } })
  return { status: response.status, body: await response.json() }
}

async function record(who: Principal, entries: UsageEntry[]) {
  await Promise.all(entries.map((entry) => t.ctx.services.usage.record(who, entry)))
}

const chat = (entry: Partial<UsageEntry> & { at: number }): UsageEntry => ({
  operation: 'completions',
  model: 'test-echo',
  inputTokens: 10,
  outputTokens: 5,
  ...entry,
})

beforeAll(async () => {
  t = await createTestApp({
    pricing: {
      models: {
        'test-echo': { input: 2, cachedInput: 1, output: 8 },
        'test-embed': { input: 0.1 },
        'test-image': { image: 0.04 },
        'code-interpreter': { session: 0.03 },
      },
    },
  })
  projectId = t.ctx.bootstrap.created!.project.id
  principal = await t.ctx.services.keys.authenticate(PROJECT_KEY)
  const userKey = await t.ctx.services.keys.create({
    orgId: t.ctx.organization.id,
    projectId,
    name: 'a user key',
    ownerType: 'user',
    ownerId: 'user-abc',
  })
  userPrincipal = await t.ctx.services.keys.authenticate(userKey.secret)
  const other = await otherProjectClient(t)
  // live usage of the other project, through the SDK
  await other.chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: 'from elsewhere' }] })
  otherProject = (await t.ctx.storage.db.selectFrom('projects').select('id').where('id', '!=', projectId).executeTakeFirstOrThrow()).id

  await record(principal, [
    chat({ at: T0 + 10, cachedTokens: 4 }),
    chat({ at: T0 + 20, batch: true }),
    chat({ at: T0 + 70, model: 'test-scripted', inputTokens: 100, outputTokens: 50 }),
    chat({ at: T0 + HOUR + 5 }),
    chat({ at: T0 + DAY + 5, inputTokens: 1000, outputTokens: 1000 }),
    { operation: 'embeddings', model: 'test-embed', inputTokens: 300, outputTokens: 0, at: T0 + 30 },
    { operation: 'moderations', model: 'omni-moderation-latest', inputTokens: 7, outputTokens: 0, at: T0 + 30 },
    { operation: 'images', model: 'test-image', inputTokens: 0, outputTokens: 0, images: 2, size: '1024x1024', source: 'image.generation', at: T0 + 40 },
    { operation: 'images', model: 'test-image', inputTokens: 0, outputTokens: 0, images: 1, size: '512x512', source: 'image.edit', at: T0 + 41 },
    { operation: 'audio_speeches', model: 'tts-1', inputTokens: 0, outputTokens: 0, characters: 45, at: T0 + 50 },
    { operation: 'audio_transcriptions', model: 'whisper-1', inputTokens: 0, outputTokens: 0, seconds: 10, at: T0 + 50 },
    { operation: 'vector_stores', model: '', inputTokens: 0, outputTokens: 0, usageBytes: 1024, at: T0 + 60 },
    { operation: 'code_interpreter_sessions', model: 'code-interpreter', inputTokens: 0, outputTokens: 0, sessions: 3, at: T0 + 60 },
  ])
  await record(userPrincipal, [chat({ at: T0 + 15, inputTokens: 1, outputTokens: 1 })])
})
afterAll(async () => t.close())

describe('GET /organization/usage/completions', () => {
  it('answers daily buckets, empty ones included, with the totals of each', async () => {
    const page = await admin().usage.completions({ start_time: T0, end_time: T0 + 3 * DAY })
    expect(page).toEqual({
      object: 'page',
      data: [
        {
          object: 'bucket',
          start_time: T0,
          end_time: T0 + DAY,
          results: [
            {
              object: 'organization.usage.completions.result',
              input_tokens: 10 + 10 + 100 + 10 + 1,
              output_tokens: 5 + 5 + 50 + 5 + 1,
              input_cached_tokens: 4,
              input_audio_tokens: 0,
              output_audio_tokens: 0,
              num_model_requests: 5,
              project_id: null,
              user_id: null,
              api_key_id: null,
              model: null,
              batch: null,
            },
          ],
        },
        {
          object: 'bucket',
          start_time: T0 + DAY,
          end_time: T0 + 2 * DAY,
          results: [expect.objectContaining({ input_tokens: 1000, output_tokens: 1000, num_model_requests: 1 })],
        },
        { object: 'bucket', start_time: T0 + 2 * DAY, end_time: T0 + 3 * DAY, results: [] },
      ],
      has_more: false,
      next_page: null,
    })
  })

  it('groups by model, batch, project, key and user', async () => {
    const q = { start_time: T0, end_time: T0 + DAY }
    const byModel = await admin().usage.completions({ ...q, group_by: ['model'] })
    expect(results(byModel).map((r) => [(r as any).model, r.num_model_requests])).toEqual([
      ['test-echo', 4],
      ['test-scripted', 1],
    ])
    const byBatch = await admin().usage.completions({ ...q, group_by: ['batch'] })
    expect(results(byBatch).map((r) => [(r as any).batch, r.num_model_requests])).toEqual([
      [false, 4],
      [true, 1],
    ])
    const byKey = await admin().usage.completions({ ...q, group_by: ['project_id', 'api_key_id'] })
    expect(results(byKey).map((r) => [(r as any).project_id, (r as any).api_key_id, r.num_model_requests]).sort()).toEqual(
      [
        [projectId, principal.keyId, 4],
        [projectId, userPrincipal.keyId, 1],
      ].sort(),
    )
    // a key the system made (here the bootstrap key) acts as the organization's owner, as the
    // project API keys endpoint says: its usage is the owner's
    const byUser = await admin().usage.completions({ ...q, group_by: ['user_id'] })
    expect(results(byUser).map((r) => [(r as any).user_id, (r as any).api_key_id, r.num_model_requests]).sort()).toEqual(
      [
        [ownerUserId(), null, 4],
        ['user-abc', null, 1],
      ].sort(),
    )
    const keyOwner = await admin().projects.apiKeys.retrieve(principal.keyId, { project_id: projectId })
    expect(keyOwner.owner.user?.id).toBe(ownerUserId())
  })

  it('filters by models, batch, projects, keys and users', async () => {
    const q = { start_time: T0, end_time: T0 + DAY }
    const total = async (query: Record<string, unknown>) => {
      const page = await admin().usage.completions({ ...q, ...query })
      return results(page)[0]?.num_model_requests ?? 0
    }
    expect(await total({ models: ['test-scripted'] })).toBe(1)
    expect(await total({ models: ['test-scripted', 'test-echo'] })).toBe(5)
    expect(await total({ batch: true })).toBe(1)
    expect(await total({ batch: false })).toBe(4)
    expect(await total({ project_ids: [otherProject] })).toBe(0)
    expect(await total({ api_key_ids: [userPrincipal.keyId] })).toBe(1)
    expect(await total({ user_ids: ['user-abc'] })).toBe(1)
    expect(await total({ user_ids: ['user-nobody'] })).toBe(0)
    expect(await total({ user_ids: ['user-abc'], api_key_ids: [principal.keyId] })).toBe(0)
    expect(await total({ user_ids: [ownerUserId()] })).toBe(4)
    // a single value without brackets, as curl users write it
    expect((await get(`usage/completions?start_time=${T0}&end_time=${T0 + DAY}&models=test-scripted`)).body.data[0].results[0].num_model_requests).toBe(1)
  })

  it('buckets by the hour and by the minute, aligned to their width', async () => {
    const hours = await admin().usage.completions({ start_time: T0 + 30, end_time: T0 + 3 * HOUR, bucket_width: '1h' })
    expect(hours.data.map((b) => [b.start_time, (b.results[0] as any)?.num_model_requests ?? 0])).toEqual([
      [T0, 4],
      [T0 + HOUR, 1],
      [T0 + 2 * HOUR, 0],
    ])
    const minutes = await admin().usage.completions({ start_time: T0, end_time: T0 + 3 * 60, bucket_width: '1m' })
    expect(minutes.data.map((b) => [b.start_time, b.end_time, (b.results[0] as any)?.num_model_requests ?? 0])).toEqual([
      [T0, T0 + 60, 3],
      [T0 + 60, T0 + 120, 1],
      [T0 + 120, T0 + 180, 0],
    ])
  })

  it('pages through the buckets with limit and page', async () => {
    const starts: number[] = []
    let page: string | undefined
    for (let i = 0; i < 10; i++) {
      const res = await admin().usage.completions({ start_time: T0, end_time: T0 + 5 * HOUR, bucket_width: '1h', limit: 2, ...(page ? { page } : {}) })
      starts.push(...res.data.map((b) => b.start_time))
      expect(res.has_more).toBe(res.next_page !== null)
      if (!res.has_more) break
      page = res.next_page!
    }
    expect(starts).toEqual([0, 1, 2, 3, 4].map((h) => T0 + h * HOUR))
  })

  it('runs up to now when end_time is left out, and uses each width\u2019s default limit', async () => {
    const days = await admin().usage.completions({ start_time: T0 })
    expect(days.data).toHaveLength(7)
    expect(days.has_more).toBe(true)
    const minutes = await admin().usage.completions({ start_time: T0, bucket_width: '1m' })
    expect(minutes.data).toHaveLength(60)
  })

  it('counts live requests through the test models', async () => {
    const before = Math.floor(Date.now() / 1000)
    const client = t.client()
    await client.chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: 'Hello there' }] })
    await client.completions.create({ model: 'test-scripted', prompt: 'Hello' })
    const embedding = await client.embeddings.create({ model: 'test-embed', input: 'Hello' })
    const day = before - (before % DAY)
    const page = await admin().usage.completions({ start_time: day, group_by: ['model', 'project_id'], project_ids: [projectId] })
    const live = Object.fromEntries(results(page).map((r) => [(r as any).model, r.num_model_requests]))
    expect(live).toEqual({ 'test-echo': 1, 'test-scripted': 1 })
    const embeddings = await admin().usage.embeddings({ start_time: day, project_ids: [projectId] })
    expect(results(embeddings)).toEqual([
      {
        object: 'organization.usage.embeddings.result',
        input_tokens: embedding.usage.prompt_tokens,
        num_model_requests: 1,
        project_id: null,
        user_id: null,
        api_key_id: null,
        model: null,
      },
    ])
    const others = await admin().usage.completions({ start_time: day, project_ids: [otherProject] })
    expect(results(others)[0].num_model_requests).toBe(1)
  })

  it('refuses bad parameters with OpenAI\u2019s messages, and project keys', async () => {
    expect((await get('usage/completions')).body.error).toMatchObject({
      message: "Missing required parameter: 'start_time'.",
      param: 'start_time',
      code: 'missing_required_parameter',
    })
    expect((await get(`usage/completions?start_time=${T0}&bucket_width=1m&limit=1441`)).body.error).toMatchObject({
      message: "Invalid 'limit': integer above maximum value. Expected a value <= 1440, but got 1441 instead.",
      param: 'limit',
    })
    expect((await get(`usage/completions?start_time=${T0}&limit=32`)).body.error.param).toBe('limit')
    expect((await get(`usage/completions?start_time=${T0}&group_by[]=size`)).body.error).toMatchObject({ param: 'group_by[0]', code: 'invalid_value' })
    expect((await get(`usage/completions?start_time=${T0}&page=page_bogus`)).body.error).toMatchObject({ param: 'page' })
    expect((await get(`usage/completions?start_time=${T0}&end_time=${T0}`)).body.error).toMatchObject({ param: 'end_time' })
    expect((await get(`usage/embeddings?start_time=${T0}&batch=true`)).body.error.message).toBe("Unknown parameter: 'batch'.")
    expect((await get(`usage/completions?start_time=${T0}`, PROJECT_KEY)).status).toBe(401)
  })
})

describe('the other usage endpoints', () => {
  const q = { start_time: T0, end_time: T0 + DAY }
  const none = { project_id: null, user_id: null, api_key_id: null, model: null }

  it('embeddings and moderations: input tokens', async () => {
    expect((await admin().usage.embeddings(q)).data[0].results).toEqual([
      { object: 'organization.usage.embeddings.result', input_tokens: 300, num_model_requests: 1, ...none },
    ])
    expect((await admin().usage.moderations({ ...q, group_by: ['model'] })).data[0].results).toEqual([
      { object: 'organization.usage.moderations.result', input_tokens: 7, num_model_requests: 1, ...none, model: 'omni-moderation-latest' },
    ])
  })

  it('images: images, by size and source', async () => {
    expect((await admin().usage.images(q)).data[0].results).toEqual([
      { object: 'organization.usage.images.result', images: 3, num_model_requests: 2, source: null, size: null, ...none },
    ])
    const grouped = await admin().usage.images({ ...q, group_by: ['size', 'source'], sizes: ['1024x1024', '512x512'] })
    expect(results(grouped).map((r: any) => [r.size, r.source, r.images]).sort()).toEqual([
      ['1024x1024', 'image.generation', 2],
      ['512x512', 'image.edit', 1],
    ])
    const filtered = await admin().usage.images({ ...q, sources: ['image.edit'] })
    expect(results(filtered)[0]).toMatchObject({ images: 1 })
  })

  it('audio: characters spoken and seconds transcribed', async () => {
    expect((await admin().usage.audioSpeeches(q)).data[0].results).toEqual([
      { object: 'organization.usage.audio_speeches.result', characters: 45, num_model_requests: 1, ...none },
    ])
    expect((await admin().usage.audioTranscriptions(q)).data[0].results).toEqual([
      { object: 'organization.usage.audio_transcriptions.result', seconds: 10, num_model_requests: 1, ...none },
    ])
  })

  it('vector stores and code interpreter sessions: per project', async () => {
    expect((await admin().usage.vectorStores({ ...q, group_by: ['project_id'] })).data[0].results).toEqual([
      { object: 'organization.usage.vector_stores.result', usage_bytes: 1024, project_id: projectId },
    ])
    expect((await admin().usage.codeInterpreterSessions(q)).data[0].results).toEqual([
      { object: 'organization.usage.code_interpreter_sessions.result', num_sessions: 3, project_id: null },
    ])
    expect((await get(`usage/vector_stores?start_time=${T0}&group_by=model`)).status).toBe(400)
  })
})

describe('GET /organization/costs', () => {
  // day 0 of the fixed records: test-echo 4 requests (41 input of which 4 cached, 16 output),
  // test-scripted (no price), embeddings 300 tokens, 3 images
  const echoInput = ((10 + 10 + 10 + 1 - 4) * 2) / 1e6
  const echoCached = (4 * 1) / 1e6
  const echoOutput = ((5 + 5 + 5 + 1) * 8) / 1e6
  const embed = (300 * 0.1) / 1e6
  const images = 3 * 0.04
  const sessions = 3 * 0.03
  // 1,024 bytes of vector stores for the day, at the default 0.10 per GB and day
  const storage = (1024 / 1e9) * 0.1

  it('prices the day from the price table', async () => {
    const page = await admin().usage.costs({ start_time: T0, end_time: T0 + 2 * DAY })
    expect(page.data[0]).toEqual({
      object: 'bucket',
      start_time: T0,
      end_time: T0 + DAY,
      results: [
        {
          object: 'organization.costs.result',
          amount: { value: expect.closeTo(echoInput + echoCached + echoOutput + embed + images + sessions + storage, 10), currency: 'usd' },
          line_item: null,
          project_id: null,
        },
      ],
    })
    expect(results(page, 1)[0].amount!.value).toBeCloseTo((1000 * 2 + 1000 * 8) / 1e6, 10)
  })

  it('splits by line item and project', async () => {
    const page = await admin().usage.costs({ start_time: T0, end_time: T0 + DAY, group_by: ['line_item', 'project_id'] })
    const items = Object.fromEntries(results(page).map((r) => [r.line_item, r.amount!.value]))
    expect(items).toEqual({
      'test-echo, input': expect.closeTo(echoInput, 10),
      'test-echo, cached input': expect.closeTo(echoCached, 10),
      'test-echo, output': expect.closeTo(echoOutput, 10),
      'test-scripted, input': 0,
      'test-scripted, output': 0,
      'test-embed, input': expect.closeTo(embed, 10),
      'test-image, images': expect.closeTo(images, 10),
      'code-interpreter, sessions': expect.closeTo(sessions, 10),
      'file search storage': expect.closeTo(storage, 14),
      // usage of models without a price shows, at 0
      'omni-moderation-latest, input': 0,
      'tts-1, characters': 0,
      'whisper-1, audio': 0,
    })
    expect(new Set(results(page).map((r) => r.project_id))).toEqual(new Set([projectId]))
  })

  it('pages by day, 7 by default and up to 180', async () => {
    const page = await admin().usage.costs({ start_time: T0 })
    expect(page.data).toHaveLength(7)
    expect(page.next_page).toMatch(/^page_/)
    const next = await admin().usage.costs({ start_time: T0, page: page.next_page! })
    expect(next.data[0].start_time).toBe(T0 + 7 * DAY)
    expect((await get(`costs?start_time=${T0}&limit=181`)).status).toBe(400)
    expect((await get(`costs?start_time=${T0}&bucket_width=1h`)).body.error).toMatchObject({ param: 'bucket_width', code: 'invalid_value' })
  })
})
