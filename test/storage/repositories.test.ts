import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newId } from '../../src/storage/ids.js'
import type { ApiKeyRow } from '../../src/storage/repositories/api-keys.js'
import type { ChatCompletionRow } from '../../src/storage/repositories/chat-completions.js'
import { migrationProvider } from '../../src/storage/migrations/index.js'
import { createRepos } from '../../src/storage/repositories/index.js'
import { openStorage, type Storage } from '../../src/storage/storage.js'
import type { StorageConfig } from '../../src/storage/dialect.js'
import { skippedPgCase, storageCases } from '../helpers/pg.js'

// The repository contract: the same assertions on every dialect. A PostgreSQL run gets its own
// schema in TEST_PG_URL's database and drops it afterwards.

const T0 = 1_750_000_000
// Past 2^32 and 2^31 alike: catches int4 columns and string-typed int8 results.
const BIG = 2 ** 40 + 7

function org(id = newId('org-')) {
  return { id, name: 'Org', created_at: T0, owner_user_id: null }
}

function project(orgId: string, over: Partial<{ id: string; status: 'active' | 'archived' }> = {}) {
  return {
    id: over.id ?? newId('proj_'),
    org_id: orgId,
    name: 'Project',
    status: over.status ?? ('active' as const),
    created_at: T0,
    archived_at: over.status === 'archived' ? T0 + 1 : null,
    model_mode: null,
    model_ids: null,
    request_log_bodies: 0,
  }
}

function apiKey(orgId: string, projectId: string | null, hash: string): ApiKeyRow {
  return {
    id: newId('key_'),
    org_id: orgId,
    project_id: projectId,
    kind: projectId ? 'project' : 'admin',
    name: `key ${hash}`,
    secret_hash: hash,
    redacted_value: 'sk-...abcd',
    owner_type: 'system',
    owner_id: null,
    permissions: '{"mode":"all"}',
    created_at: T0,
    last_used_at: null,
  }
}

function completion(
  projectId: string,
  id: string,
  over: Partial<ChatCompletionRow> = {},
): ChatCompletionRow {
  return {
    id,
    project_id: projectId,
    model: 'test-echo',
    created_at: T0,
    metadata: '{}',
    messages: '[]',
    response: JSON.stringify({ id }),
    ...over,
  }
}

const NO_UNITS = {
  input_audio_tokens: 0,
  output_audio_tokens: 0,
  images: 0,
  characters: 0,
  seconds: 0,
  usage_bytes: 0,
  sessions: 0,
  source: null,
  size: null,
}

/** Every migration the build has, in order: all of them are applied, once. */
async function migrationNames(storage: Storage): Promise<string[]> {
  return Object.keys(await migrationProvider({ dialect: storage.dialect }).getMigrations()).sort()
}

describe.each(storageCases())('repositories on $name', ({ name, create }) => {
  let config: StorageConfig
  let cleanup: () => Promise<void>
  let storage: Storage

  beforeAll(async () => {
    ;({ config, cleanup } = create('repos'))
    storage = await openStorage(config)
  })
  afterAll(async () => {
    await storage?.close()
    await cleanup?.()
  })

  const repos = () => createRepos(storage.db)

  describe('migrations', () => {
    it('create every table', async () => {
      // PostgreSQL introspection lists every schema's tables, other suites' included
      const tables = (await storage.db.introspection.getTables())
        .filter((t) => config.kind !== 'postgres' || t.schema === config.schema)
        .map((t) => t.name)
        .sort()
      expect(tables).toEqual([
        'api_keys',
        'assistants',
        'audit_logs',
        'batch_lines',
        'batches',
        'certificates',
        'chat_completions',
        'container_files',
        'containers',
        'conversation_items',
        'conversations',
        'eval_run_output_items',
        'eval_runs',
        'evals',
        'files',
        'fine_tuning_checkpoints',
        'fine_tuning_events',
        'fine_tuning_jobs',
        'fine_tuning_permissions',
        'invites',
        'jobs',
        'messages',
        'organizations',
        'project_certificates',
        'project_rate_limits',
        'project_users',
        'projects',
        'realtime_client_secrets',
        'response_items',
        'responses',
        'run_steps',
        'runs',
        'service_accounts',
        'spend_alerts',
        'spend_limits',
        'threads',
        'upload_parts',
        'uploads',
        'usage_records',
        'usage_rollups',
        'users',
        'vector_store_file_batches',
        'vector_store_files',
        'vector_store_usage_days',
        'vector_stores',
      ])
      const applied = await sql<{
        name: string
      }>`select name from kysely_migration order by name`.execute(storage.db)
      expect(applied.rows.map((r) => r.name)).toEqual(await migrationNames(storage))
    })

    it('re-applying on an existing database is a no-op that keeps the data', async () => {
      const o = org()
      await repos().organizations.insert(o)
      const again = await openStorage(config)
      try {
        const applied = await sql<{
          n: number
        }>`select count(*) as n from kysely_migration`.execute(again.db)
        expect(applied.rows[0].n).toBe((await migrationNames(again)).length)
        expect(await createRepos(again.db).organizations.first()).toBeDefined()
        expect(
          (await again.db.selectFrom('organizations').selectAll().where('id', '=', o.id).execute())
            .length,
        ).toBe(1)
      } finally {
        await again.close()
      }
    })
  })

  describe('organizations and projects', () => {
    it('insert, first, get and list per organization in id order', async () => {
      const o = org('org-0000first')
      const other = org()
      await repos().organizations.insert(o)
      await repos().organizations.insert(other)
      expect(await repos().organizations.first()).toEqual(o)

      const projects = [project(o.id), project(o.id), project(o.id, { status: 'archived' })]
      for (const p of [...projects].reverse()) await repos().projects.insert(p)
      await repos().projects.insert(project(other.id))

      expect(await repos().projects.get(projects[2].id)).toEqual(projects[2])
      expect(await repos().projects.get('proj_missing')).toBeUndefined()
      expect(await repos().projects.list(o.id)).toEqual(projects)
      expect(typeof (await repos().projects.get(projects[0].id))!.created_at).toBe('number')
    })

    it('enforces the foreign key to organizations', async () => {
      await expect(repos().projects.insert(project('org-missing'))).rejects.toThrow()
    })
  })

  describe('api_keys', () => {
    let o: ReturnType<typeof org>
    let active: ReturnType<typeof project>
    let archived: ReturnType<typeof project>
    let admin: ApiKeyRow
    let key1: ApiKeyRow
    let key2: ApiKeyRow
    let oldKey: ApiKeyRow

    beforeAll(async () => {
      o = org()
      await repos().organizations.insert(o)
      active = project(o.id)
      archived = project(o.id, { status: 'archived' })
      await repos().projects.insert(active)
      await repos().projects.insert(archived)
      admin = apiKey(o.id, null, 'hash-admin')
      key1 = apiKey(o.id, active.id, 'hash-1')
      key2 = apiKey(o.id, active.id, 'hash-2')
      oldKey = apiKey(o.id, archived.id, 'hash-old')
      for (const k of [key2, oldKey, admin, key1]) await repos().apiKeys.insert(k)
    })

    it('findByHash joins the project status (null for admin keys)', async () => {
      expect(await repos().apiKeys.findByHash('hash-1')).toEqual({
        ...key1,
        project_status: 'active',
      })
      expect(await repos().apiKeys.findByHash('hash-old')).toEqual({
        ...oldKey,
        project_status: 'archived',
      })
      expect(await repos().apiKeys.findByHash('hash-admin')).toEqual({
        ...admin,
        project_status: null,
      })
      expect(await repos().apiKeys.findByHash('hash-unknown')).toBeUndefined()
    })

    it('rejects a second key with the same secret hash', async () => {
      await expect(repos().apiKeys.insert(apiKey(o.id, active.id, 'hash-1'))).rejects.toThrow()
    })

    it('list filters by project (null = admin keys) and kind, in id order', async () => {
      const ours = (rows: ApiKeyRow[]) => rows.filter((r) => r.org_id === o.id).map((r) => r.id)
      const byId = (...keys: ApiKeyRow[]) => keys.map((k) => k.id).sort()
      expect(ours(await repos().apiKeys.list())).toEqual(byId(admin, key1, key2, oldKey))
      expect(ours(await repos().apiKeys.list({ projectId: null }))).toEqual([admin.id])
      expect(await repos().apiKeys.list({ projectId: active.id })).toEqual(
        [key1, key2].sort((a, b) => (a.id < b.id ? -1 : 1)),
      )
      expect(ours(await repos().apiKeys.list({ kind: 'admin' }))).toEqual([admin.id])
      expect(ours(await repos().apiKeys.list({ projectId: archived.id, kind: 'project' }))).toEqual(
        [oldKey.id],
      )
      expect(await repos().apiKeys.list({ projectId: 'proj_missing' })).toEqual([])
    })

    it('touch sets last_used_at on that key only, as a number', async () => {
      await repos().apiKeys.touch(key1.id, BIG)
      const found = await repos().apiKeys.findByHash('hash-1')
      expect(found!.last_used_at).toBe(BIG)
      expect((await repos().apiKeys.findByHash('hash-2'))!.last_used_at).toBeNull()
    })
  })

  describe('usage_records', () => {
    it('insert and list per project since a time, with integers as numbers', async () => {
      const row = (projectId: string, createdAt: number) => ({
        id: newId('usage_'),
        org_id: 'org-x',
        project_id: projectId,
        api_key_id: null,
        operation: 'completions',
        model: 'test-echo',
        input_tokens: BIG,
        output_tokens: 5,
        cached_tokens: 0,
        requests: 1,
        batch: 0,
        created_at: createdAt,
      })
      const rows = [row('proj_u', T0), row('proj_u', T0 + 60), row('proj_u', T0 + 120)]
      for (const r of rows) await repos().usage.insert(r)
      await repos().usage.insert(row('proj_other', T0 + 60))

      // the units of migration 0006 default to 0 (and null for image size and source)
      const stored = rows.map((r) => ({ ...r, ...NO_UNITS }))
      expect(await repos().usage.listForProject('proj_u')).toEqual(stored)
      expect(await repos().usage.listForProject('proj_u', T0 + 60)).toEqual(stored.slice(1))

      // aggregates: count(*) is int8 and sum(bigint) is numeric on PostgreSQL
      const totals = await storage.db
        .selectFrom('usage_records')
        .where('project_id', '=', 'proj_u')
        .select((eb) => [
          eb.fn.countAll().as('n'),
          eb.fn.sum('output_tokens').as('out'),
          eb.fn.max('input_tokens').as('max'),
        ])
        .executeTakeFirstOrThrow()
      expect(totals).toEqual({ n: 3, out: 15, max: BIG })
    })
  })

  describe('chat_completions', () => {
    const P = 'proj_chat'
    const OTHER = 'proj_other_chat'
    // Mixed case on purpose: bytewise order puts 'Z' before 'a', a linguistic collation does not.
    // These are the order keyset pagination must follow on every dialect.
    const ids = [
      'chatcmpl-0a',
      'chatcmpl-0B',
      'chatcmpl-Ab',
      'chatcmpl-Zz',
      'chatcmpl-a0',
      'chatcmpl-aA',
      'chatcmpl-b',
    ].sort()
    const generated = Array.from({ length: 5 }, () => newId('chatcmpl-'))

    beforeAll(async () => {
      for (const id of [...ids].reverse()) await repos().chatCompletions.insert(completion(P, id))
      await repos().chatCompletions.insert(
        completion(OTHER, 'chatcmpl-other', { model: 'other-model' }),
      )
    })

    it('get is scoped to the project', async () => {
      expect(await repos().chatCompletions.get(P, ids[0])).toEqual(completion(P, ids[0]))
      expect(await repos().chatCompletions.get(OTHER, ids[0])).toBeUndefined()
      expect(await repos().chatCompletions.get(P, 'chatcmpl-other')).toBeUndefined()
    })

    it('lists asc in byte order, limit+1 rows while there are more', async () => {
      const seen: string[] = []
      let after: string | undefined
      for (;;) {
        const rows = await repos().chatCompletions.list(P, { after, limit: 3, order: 'asc' })
        const page = rows.slice(0, 3)
        seen.push(...page.map((r) => r.id))
        if (rows.length <= 3) break
        expect(rows).toHaveLength(4)
        after = page[page.length - 1].id
      }
      expect(seen).toEqual(ids)
    })

    it('lists desc with after', async () => {
      const rows = await repos().chatCompletions.list(P, { after: ids[5], limit: 2, order: 'desc' })
      expect(rows.map((r) => r.id)).toEqual([ids[4], ids[3], ids[2]])
      const last = await repos().chatCompletions.list(P, { after: ids[2], limit: 2, order: 'desc' })
      expect(last.map((r) => r.id)).toEqual([ids[1], ids[0]])
      const all = await repos().chatCompletions.list(P, { limit: 100, order: 'desc' })
      expect(all.map((r) => r.id)).toEqual([...ids].reverse())
    })

    it('follows creation order for generated ids and filters by model', async () => {
      for (const id of generated)
        await repos().chatCompletions.insert(completion('proj_gen', id, { model: 'm1' }))
      await repos().chatCompletions.insert(
        completion('proj_gen', newId('chatcmpl-'), { model: 'm2' }),
      )
      const rows = await repos().chatCompletions.list('proj_gen', {
        limit: 10,
        order: 'asc',
        model: 'm1',
      })
      expect(rows.map((r) => r.id)).toEqual(generated)
      const after = await repos().chatCompletions.list('proj_gen', {
        after: generated[1],
        limit: 10,
        order: 'asc',
        model: 'm1',
      })
      expect(after.map((r) => r.id)).toEqual(generated.slice(2))
    })

    it('updateMetadata changes only the project’s own row', async () => {
      await repos().chatCompletions.updateMetadata(OTHER, ids[1], '{"x":"no"}', '{}')
      expect((await repos().chatCompletions.get(P, ids[1]))!.metadata).toBe('{}')
      await repos().chatCompletions.updateMetadata(P, ids[1], '{"x":"1"}', '{"metadata":{"x":"1"}}')
      const row = await repos().chatCompletions.get(P, ids[1])
      expect(row).toMatchObject({ metadata: '{"x":"1"}', response: '{"metadata":{"x":"1"}}' })
    })

    it('delete never matches another project’s id, and reports whether it deleted', async () => {
      expect(await repos().chatCompletions.delete(OTHER, ids[6])).toBe(false)
      expect(await repos().chatCompletions.get(P, ids[6])).toBeDefined()
      expect(await repos().chatCompletions.delete(P, ids[6])).toBe(true)
      expect(await repos().chatCompletions.get(P, ids[6])).toBeUndefined()
      expect(await repos().chatCompletions.delete(P, ids[6])).toBe(false)
      expect(await repos().chatCompletions.get(OTHER, 'chatcmpl-other')).toBeDefined()
    })
  })

  describe('certificates', () => {
    const cert = (orgId: string, fingerprint: string) => ({
      id: newId('cert_'),
      org_id: orgId,
      name: null,
      content: 'PEM',
      fingerprint,
      valid_at: T0,
      expires_at: BIG,
      created_at: T0,
      active: 0,
    })

    it('pages both ways, with activation per project, and the fingerprints a caller needs', async () => {
      const o = org()
      await repos().organizations.insert(o)
      const p = project(o.id)
      const q = project(o.id)
      await repos().projects.insert(p)
      await repos().projects.insert(q)
      const [a, b, c] = [cert(o.id, 'fa'), cert(o.id, 'fb'), cert(o.id, 'fc')]
      for (const row of [a, b, c]) await repos().certificates.insert(row)
      expect(await repos().certificates.get(o.id, a.id)).toEqual(a)
      expect(await repos().certificates.count(o.id)).toBe(3)
      const desc = await repos().certificates.page(o.id, { limit: 1, order: 'desc', after: c.id })
      expect(desc.map((r) => r.id)).toEqual([b.id, a.id])

      await repos().certificates.setActive(o.id, [a.id], 1)
      await repos().certificates.activateForProject(p.id, [b.id], T0)
      await repos().certificates.activateForProject(p.id, [b.id], T0 + 1)
      const inP = await repos().certificates.projectPage(o.id, p.id, { limit: 10, order: 'asc' })
      expect(inP.map((r) => [r.id, Number(r.project_active)])).toEqual([[a.id, 0], [b.id, 1], [c.id, 0]])
      expect(await repos().certificates.projectActivations(b.id)).toBe(1)
      expect((await repos().certificates.activeFingerprints(o.id, null)).sort()).toEqual(['fa'])
      expect((await repos().certificates.activeFingerprints(o.id, p.id)).sort()).toEqual(['fa', 'fb'])
      expect((await repos().certificates.activeFingerprints(o.id, q.id)).sort()).toEqual(['fa'])

      await repos().certificates.deactivateForProject(p.id, [b.id])
      expect(await repos().certificates.projectActivations(b.id)).toBe(0)
      await repos().certificates.delete(c.id)
      expect(await repos().certificates.get(o.id, c.id)).toBeUndefined()
    })
  })

  describe('transactions', () => {
    const count = async (s: Storage, orgId: string) =>
      (await s.db.selectFrom('organizations').select('id').where('id', '=', orgId).execute()).length

    it('commit what fn wrote and return its result', async () => {
      const o = org()
      const result = await storage.transaction(async (tx) => {
        expect(tx.dialect).toBe(name)
        await createRepos(tx.db).organizations.insert(o)
        expect(await count(tx, o.id)).toBe(1)
        return 'done'
      })
      expect(result).toBe('done')
      expect(await count(storage, o.id)).toBe(1)
    })

    it('roll back everything when fn throws, and rethrow', async () => {
      const o = org()
      const boom = new Error('boom')
      await expect(
        storage.transaction(async (tx) => {
          await createRepos(tx.db).organizations.insert(o)
          await createRepos(tx.db).projects.insert(project(o.id))
          throw boom
        }),
      ).rejects.toBe(boom)
      expect(await count(storage, o.id)).toBe(0)
      expect(
        await storage.db.selectFrom('projects').select('id').where('org_id', '=', o.id).execute(),
      ).toEqual([])
    })

    it('roll back when a statement fails inside, and stay usable afterwards', async () => {
      const o = org()
      await expect(
        storage.transaction(async (tx) => {
          await createRepos(tx.db).organizations.insert(o)
          await createRepos(tx.db).organizations.insert(o) // primary key violation
        }),
      ).rejects.toThrow()
      expect(await count(storage, o.id)).toBe(0)
      await storage.transaction((tx) => createRepos(tx.db).organizations.insert(o))
      expect(await count(storage, o.id)).toBe(1)
    })

    it('a nested call reuses the transaction: an outer failure undoes the inner work', async () => {
      const outer = org()
      const inner = org()
      await expect(
        storage.transaction(async (tx) => {
          await createRepos(tx.db).organizations.insert(outer)
          await tx.transaction(async (tx2) => {
            expect(tx2).toBe(tx)
            await createRepos(tx2.db).organizations.insert(inner)
          })
          expect(await count(tx, inner.id)).toBe(1)
          throw new Error('outer fails after inner finished')
        }),
      ).rejects.toThrow('outer fails')
      expect(await count(storage, outer.id)).toBe(0)
      expect(await count(storage, inner.id)).toBe(0)
    })

    it('a transaction-bound Storage cannot close the pool', async () => {
      await storage.transaction(async (tx) => {
        await expect(tx.close()).rejects.toThrow(/transaction-bound/)
      })
      expect(await repos().organizations.first()).toBeDefined()
    })
  })
})

skippedPgCase('repositories on postgres')
