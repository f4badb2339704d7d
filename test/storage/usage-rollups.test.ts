import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rollupsOf } from '../../src/domain/usage/rollup.js'
import { newId } from '../../src/storage/ids.js'
import type { UsageRecordInsert } from '../../src/storage/repositories/usage.js'
import { createRepos } from '../../src/storage/repositories/index.js'
import { openStorage, type Storage } from '../../src/storage/storage.js'
import { skippedPgCase, storageCases } from '../helpers/pg.js'

// The usage rollups and project rate limits repositories: the same assertions on every dialect.

const T0 = 1_730_419_200 // a day boundary
const BIG = 2 ** 40 + 7

function record(over: Partial<UsageRecordInsert> = {}): UsageRecordInsert {
  return {
    id: newId('usage_'),
    org_id: 'org-x',
    project_id: 'proj_a',
    api_key_id: 'key_a',
    operation: 'completions',
    model: 'm1',
    input_tokens: 10,
    output_tokens: 5,
    cached_tokens: 0,
    requests: 1,
    batch: 0,
    created_at: T0,
    ...over,
  }
}

describe.each(storageCases())('usage rollups and rate limits on $name', ({ create }) => {
  let storage: Storage
  let cleanup: () => Promise<void>

  beforeAll(async () => {
    const made = create('rollups')
    cleanup = made.cleanup
    storage = await openStorage(made.config)
  })
  afterAll(async () => {
    await storage?.close()
    await cleanup?.()
  })

  const repos = () => createRepos(storage.db)

  it('adds sums to existing rows (upsert), per width, key and dimension', async () => {
    const batch1 = [record(), record({ created_at: T0 + 61 }), record({ model: 'm2', input_tokens: BIG })]
    const batch2 = [record({ created_at: T0 + 3599, batch: 1 }), record({ api_key_id: null, created_at: T0 + 7200 })]
    await repos().usageRollups.add(rollupsOf(batch1))
    await repos().usageRollups.add(rollupsOf(batch2))
    const days = await repos().usageRollups.query({ operations: ['completions'], width: '1d', from: T0, to: T0 + 86_400, groupBy: [] })
    expect(days).toEqual([expect.objectContaining({ bucket_start: T0, requests: 5, input_tokens: 40 + BIG, output_tokens: 25 })])
    const hours = await repos().usageRollups.query({
      operations: ['completions'],
      width: '1h',
      from: T0,
      to: T0 + 3 * 3600,
      groupBy: ['model', 'api_key_id', 'batch'],
    })
    expect(hours.map((r) => [r.bucket_start, r.model, r.api_key_id, r.batch, r.requests])).toEqual([
      [T0, 'm1', 'key_a', 0, 2],
      [T0, 'm1', 'key_a', 1, 1],
      [T0, 'm2', 'key_a', 0, 1],
      [T0 + 7200, 'm1', '', 0, 1],
    ])
    const minutes = await repos().usageRollups.query({ operations: ['completions'], width: '1m', from: T0, to: T0 + 120, groupBy: [] })
    expect(minutes.map((r) => [r.bucket_start, r.requests])).toEqual([
      [T0, 2],
      [T0 + 60, 1],
    ])
  })

  it('sums only the columns asked for; the others are 0', async () => {
    const q = { operations: ['completions'], width: '1d' as const, from: T0, to: T0 + 86_400, groupBy: [] }
    const [all] = await repos().usageRollups.query(q)
    expect(all.output_tokens).toBeGreaterThan(0)
    const [some] = await repos().usageRollups.query({ ...q, sums: ['requests', 'input_tokens'] })
    expect(some).toEqual({ ...all, output_tokens: 0 })
  })

  it('filters by operation, project, key, model, batch, source and size', async () => {
    await repos().usageRollups.add(
      rollupsOf([
        record({ operation: 'images', project_id: 'proj_b', model: 'img', images: 2, size: '512x512', source: 'image.edit', created_at: T0 + 86_400 }),
        record({ operation: 'images', project_id: 'proj_b', model: 'img', images: 1, size: '1024x1024', source: 'image.generation', created_at: T0 + 86_400 }),
      ]),
    )
    const q = { width: '1d' as const, from: T0, to: T0 + 2 * 86_400, groupBy: [] }
    const sum = async (extra: object) =>
      (await repos().usageRollups.query({ operations: ['images'], ...q, ...extra })).reduce((n, r) => n + r.images, 0)
    expect(await sum({})).toBe(3)
    expect(await sum({ sizes: ['512x512'] })).toBe(2)
    expect(await sum({ sources: ['image.generation'] })).toBe(1)
    expect(await sum({ projectIds: ['proj_a'] })).toBe(0)
    expect(await sum({ models: ['img'], apiKeyIds: ['key_a'], batch: false })).toBe(3)
    const both = await repos().usageRollups.query({ operations: ['completions', 'images'], ...q, groupBy: ['operation'] })
    expect(both.map((r) => [r.bucket_start, r.operation, r.requests])).toEqual([
      [T0, 'completions', 5],
      [T0 + 86_400, 'images', 2],
    ])
  })

  it('project rate limits: upsert changes only the given columns', async () => {
    const limits = repos().rateLimits
    await limits.upsert('proj_a', 'm1', { max_requests_per_1_minute: 10 }, T0)
    await limits.upsert('proj_a', 'm1', { max_tokens_per_1_minute: BIG }, T0 + 1)
    await limits.upsert('proj_a', 'm2', { max_requests_per_1_day: 3 }, T0)
    await limits.upsert('proj_b', 'm1', { max_requests_per_1_minute: 1 }, T0)
    expect(await limits.get('proj_a', 'm1')).toEqual({
      project_id: 'proj_a',
      model: 'm1',
      max_requests_per_1_minute: 10,
      max_tokens_per_1_minute: BIG,
      max_images_per_1_minute: null,
      max_audio_megabytes_per_1_minute: null,
      max_requests_per_1_day: null,
      batch_1_day_max_input_tokens: null,
      updated_at: T0 + 1,
    })
    expect((await limits.listForProject('proj_a')).map((r) => r.model)).toEqual(['m1', 'm2'])
    expect(await limits.get('proj_c', 'm1')).toBeUndefined()
  })
})

skippedPgCase('usage rollups and rate limits on postgres')
