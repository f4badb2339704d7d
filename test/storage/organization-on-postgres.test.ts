import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createApp } from '../../src/app.js'
import { parseConfig } from '../../src/config/load.js'
import { createContext, type AppContext } from '../../src/context.js'
import { openStorage } from '../../src/storage/storage.js'
import { describePg, withPgSchema, type PgSchema } from '../helpers/pg.js'

// The Administration API on PostgreSQL through the official SDK: bootstrap owner, projects,
// invites, service accounts, archiving, audit log filters and pages.

const ADMIN_KEY = 'sk-admin-pgorg-0000000000000000000000'
const PROJECT_KEY = 'sk-proj-pgorg-00000000000000000000000'

describePg('the Administration API on postgres', () => {
  let pgSchema: PgSchema
  let dataDir: string
  let ctx: AppContext
  let request: typeof fetch
  const client = (key: string) =>
    new OpenAI({
      apiKey: key,
      adminAPIKey: key,
      baseURL: 'http://plinth.test/v1',
      maxRetries: 0,
      fetch: request,
    })

  beforeAll(async () => {
    pgSchema = withPgSchema('org_app')
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-pg-org-'))
    const config = parseConfig({
      dataDir,
      bootstrap: { adminKey: ADMIN_KEY, projectKey: PROJECT_KEY },
      testModels: { enabled: true },
    })
    ctx = await createContext(config, { storage: await openStorage(pgSchema.config) })
    const app = createApp(ctx)
    request = (async (url: string, init: RequestInit) => app.request(url, init)) as typeof fetch
  })
  afterAll(async () => {
    await ctx?.close()
    await pgSchema?.drop()
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true })
  })

  it('serves the organization end to end', async () => {
    const admin = client(ADMIN_KEY).admin.organization
    expect((await admin.users.list()).data.map((u) => [u.email, u.role])).toEqual([
      ['owner@localhost', 'owner'],
    ])
    const project = await admin.projects.create({ name: 'On PG' })
    const invite = (await admin.invites.create({
      email: 'pg@example.com',
      role: 'reader',
      projects: [{ id: project.id, role: 'member' }],
    })) as any
    const accepted = await (
      await request(`http://plinth.test/v1/organization/invites/${invite.id}/accept`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: invite.accept_token }),
      })
    ).json()
    // listed in user id order: the owner was made first
    expect((await admin.projects.users.list(project.id)).data.map((u) => u.email)).toEqual([
      'owner@localhost',
      'pg@example.com',
    ])
    const reader = client(accepted.admin_api_key.value).admin.organization
    expect(await reader.projects.create({ name: 'no' }).catch((e) => e.status)).toBe(401)
    const account = await admin.projects.serviceAccounts.create(project.id, { name: 'bot' })
    const bot = client(account.api_key!.value)
    expect((await bot.models.list()).data.length).toBeGreaterThan(0)
    await admin.projects.archive(project.id)
    expect(await bot.models.list().catch((e) => e.status)).toBe(401)
    const types = []
    for await (const entry of admin.auditLogs.list({ limit: 2, project_ids: [project.id] }))
      types.push(entry.type)
    expect(types).toEqual([
      'project.archived',
      'api_key.created',
      'service_account.created',
      'user.added',
      'project.created',
    ])
    const byReader = await admin.auditLogs.list({ actor_emails: ['pg@example.com'] })
    expect(byReader.data.map((e) => e.type)).toEqual([
      'api_key.created',
      'user.added',
      'invite.accepted',
    ])
  })
})
