import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createApp } from '../../src/app.js'
import { parseConfig } from '../../src/config/load.js'
import { createContext, type AppContext } from '../../src/context.js'
import { openStorage } from '../../src/storage/storage.js'
import { validatingFetch } from '../helpers/validating-fetch.js'
import { describePg, withPgSchema, type PgSchema } from '../helpers/pg.js'

// Usage, costs and rate limits with the app on PostgreSQL (rollup upserts, sums that PostgreSQL
// returns as numeric, the admin API's limits), through the SDK in-process.

const ADMIN_KEY = 'sk-admin-pgusage-00000000000000000000'
const PROJECT_KEY = 'sk-proj-pgusage-000000000000000000000'

describePg('usage and rate limits on postgres', () => {
  let pgSchema: PgSchema
  let dataDir: string
  let ctx: AppContext
  let client: OpenAI
  let admin: OpenAI['admin']['organization']

  beforeAll(async () => {
    pgSchema = withPgSchema('usage')
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-pg-usage-'))
    const config = parseConfig({
      dataDir,
      bootstrap: { adminKey: ADMIN_KEY, projectKey: PROJECT_KEY },
      testModels: { enabled: true },
      pricing: { models: { 'test-echo': { input: 1_000_000, output: 2_000_000 } } },
    })
    ctx = await createContext(config, { storage: await openStorage(pgSchema.config) })
    const app = createApp(ctx)
    const fetch = validatingFetch(((url: string, init?: RequestInit) => app.request(url, init)) as typeof globalThis.fetch)
    client = new OpenAI({ apiKey: PROJECT_KEY, baseURL: 'http://plinth.test/v1', maxRetries: 0, fetch })
    admin = new OpenAI({ apiKey: ADMIN_KEY, adminAPIKey: ADMIN_KEY, baseURL: 'http://plinth.test/v1', maxRetries: 0, fetch }).admin
      .organization
  })
  afterAll(async () => {
    await ctx?.close()
    await pgSchema?.drop()
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true })
  })

  it('answers usage and costs from the rollups', async () => {
    const start = Math.floor(Date.now() / 1000)
    let input = 0
    let output = 0
    for (let i = 0; i < 3; i++) {
      const done = await client.chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: `hello ${i}` }] })
      input += done.usage!.prompt_tokens
      output += done.usage!.completion_tokens
    }
    const day = start - (start % 86_400)
    const page = await admin.usage.completions({ start_time: day, limit: 1, group_by: ['model'] })
    expect(page.data[0].results).toEqual([
      expect.objectContaining({ model: 'test-echo', num_model_requests: 3, input_tokens: input, output_tokens: output }),
    ])
    const costs = await admin.usage.costs({ start_time: day, limit: 1 })
    expect((costs.data[0].results[0] as { amount?: unknown }).amount).toEqual({ value: input + 2 * output, currency: 'usd' })
  })

  it('keeps a project\u2019s own limits and enforces them', async () => {
    const project = ctx.bootstrap.created!.project.id
    const updated = await admin.projects.rateLimits.updateRateLimit('rl-test-echo', { project_id: project, max_requests_per_1_minute: 2 })
    expect(updated.max_requests_per_1_minute).toBe(2)
    const ask = () =>
      client.chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: 'hi' }] }).then(
        () => 200,
        (error) => (error as { status: number }).status,
      )
    expect([await ask(), await ask(), await ask()]).toEqual([200, 200, 429])
  })
})
