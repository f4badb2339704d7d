import type OpenAI from 'openai'
import { newId, nowSeconds } from '../../src/storage/ids.js'
import { createRepos } from '../../src/storage/repositories/index.js'
import type { TestApp } from './test-context.js'

/** A second project in the same organization, and an SDK client with a key of it. */
export async function otherProjectClient(t: TestApp): Promise<OpenAI> {
  const projectId = newId('proj_')
  await createRepos(t.ctx.storage.db).projects.insert({
    id: projectId,
    org_id: t.ctx.organization.id,
    name: 'Other project',
    status: 'active',
    created_at: nowSeconds(),
    archived_at: null,
  })
  const key = await t.ctx.services.keys.create({
    orgId: t.ctx.organization.id,
    projectId,
    name: 'other key',
  })
  return t.client(key.secret)
}
