import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newId } from '../../src/storage/ids.js'
import type { ApiKeyRow } from '../../src/storage/repositories/api-keys.js'
import type { AuditLogRow } from '../../src/storage/repositories/audit-logs.js'
import { createRepos } from '../../src/storage/repositories/index.js'
import type { UserRow } from '../../src/storage/repositories/users.js'
import type { StorageConfig } from '../../src/storage/dialect.js'
import { openStorage, type Storage } from '../../src/storage/storage.js'
import { skippedPgCase, storageCases } from '../helpers/pg.js'

// The Administration API's repositories: the same assertions on SQLite and PostgreSQL.

const T0 = 1_750_000_000

describe.each(storageCases())('organization repositories on $name', ({ create }) => {
  let config: StorageConfig
  let cleanup: () => Promise<void>
  let storage: Storage
  const repos = () => createRepos(storage.db)
  const orgId = newId('org-')
  const projectId = newId('proj_')
  const archivedId = newId('proj_')

  function user(email: string, role: UserRow['role'] = 'reader'): UserRow {
    return {
      id: newId('user-'),
      org_id: orgId,
      email,
      name: email.split('@')[0],
      role,
      added_at: T0,
    }
  }

  function key(over: Partial<ApiKeyRow> = {}): ApiKeyRow {
    return {
      id: newId('key_'),
      org_id: orgId,
      project_id: projectId,
      kind: 'project',
      name: 'k',
      secret_hash: newId('hash_'),
      redacted_value: 'sk-proj-abc...wxyz',
      owner_type: 'system',
      owner_id: null,
      permissions: '{"mode":"all"}',
      created_at: T0,
      last_used_at: null,
      ...over,
    }
  }

  beforeAll(async () => {
    ;({ config, cleanup } = create('orgrepos'))
    storage = await openStorage(config)
    await repos().organizations.insert({ id: orgId, name: 'Org', created_at: T0 })
    await repos().projects.insert({
      id: projectId,
      org_id: orgId,
      name: 'P',
      status: 'active',
      created_at: T0,
      archived_at: null,
    })
    await repos().projects.insert({
      id: archivedId,
      org_id: orgId,
      name: 'Old',
      status: 'archived',
      created_at: T0,
      archived_at: T0,
    })
  })
  afterAll(async () => {
    await storage?.close()
    await cleanup?.()
  })

  describe('projects', () => {
    it('page hides archived projects unless asked; rename and archive touch active ones only', async () => {
      const page = await repos().projects.page(orgId, { limit: 10, includeArchived: false })
      expect(page.map((p) => p.id)).toEqual([projectId])
      const all = await repos().projects.page(orgId, { limit: 10, includeArchived: true })
      expect(all.map((p) => p.id)).toEqual([projectId, archivedId].sort())
      expect(await repos().projects.page(orgId, { limit: 1, includeArchived: true })).toHaveLength(
        2,
      )
      expect(await repos().projects.rename(archivedId, 'x')).toBe(false)
      const extra = newId('proj_')
      await repos().projects.insert({
        id: extra,
        org_id: orgId,
        name: 'E',
        status: 'active',
        created_at: T0,
        archived_at: null,
      })
      expect(await repos().projects.rename(extra, 'E2')).toBe(true)
      expect(await repos().projects.archive(extra, T0 + 5)).toBe(true)
      expect(await repos().projects.archive(extra, T0 + 9)).toBe(false)
      expect(await repos().projects.get(extra)).toMatchObject({
        name: 'E2',
        status: 'archived',
        archived_at: T0 + 5,
      })
    })

    it('model policy round-trips', async () => {
      await repos().projects.setModelPolicy(projectId, 'allow_list', ['a', 'b'])
      expect(await repos().projects.get(projectId)).toMatchObject({
        model_mode: 'allow_list',
        model_ids: '["a","b"]',
      })
      await repos().projects.setModelPolicy(projectId, null, null)
      expect(await repos().projects.get(projectId)).toMatchObject({
        model_mode: null,
        model_ids: null,
      })
    })

    it('keeps request log text off by default; the setting round-trips', async () => {
      expect(await repos().projects.get(projectId)).toMatchObject({ request_log_bodies: 0 })
      await repos().projects.setRequestLogBodies(projectId, true)
      expect(await repos().projects.get(projectId)).toMatchObject({ request_log_bodies: 1 })
      await repos().projects.setRequestLogBodies(projectId, false)
      expect(await repos().projects.get(projectId)).toMatchObject({ request_log_bodies: 0 })
    })
  })

  describe('users', () => {
    it('emails are unique per organization; page filters by email; owners are counted', async () => {
      const owner = user('own@example.com', 'owner')
      const a = user('a@example.com')
      await repos().users.insert(owner)
      await repos().users.insert(a)
      await expect(repos().users.insert(user('a@example.com'))).rejects.toThrow()
      expect(await repos().users.byEmail(orgId, 'a@example.com')).toEqual(a)
      expect(await repos().users.get('org-other', a.id)).toBeUndefined()
      expect(
        (await repos().users.page(orgId, { limit: 10, emails: ['a@example.com'] })).map(
          (u) => u.id,
        ),
      ).toEqual([a.id])
      expect(await repos().users.page(orgId, { limit: 10, emails: [] })).toEqual([])
      expect(await repos().users.countOwners(orgId)).toBe(1)
      expect(await repos().users.anotherOwner(orgId, owner.id)).toBeUndefined()
      await repos().users.setRole(orgId, a.id, 'owner')
      expect(await repos().users.countOwners(orgId)).toBe(2)
      expect((await repos().users.anotherOwner(orgId, owner.id))!.id).toBe(a.id)
      const page = await repos().users.page(orgId, { limit: 1 })
      expect(page).toHaveLength(2)
      expect((await repos().users.page(orgId, { limit: 10, after: page[0].id }))[0].id).toBe(
        page[1].id,
      )
    })
  })

  describe('invites', () => {
    it('found by token hash; pending until expiry; accepted once', async () => {
      const invite = {
        id: newId('invite-'),
        org_id: orgId,
        email: 'inv@example.com',
        role: 'reader' as const,
        status: 'pending' as const,
        token_hash: 'tok-1',
        projects: '[]',
        invited_at: T0,
        expires_at: T0 + 100,
        accepted_at: null,
        user_id: null,
      }
      await repos().invites.insert(invite)
      expect(await repos().invites.byTokenHash('tok-1')).toEqual(invite)
      expect(await repos().invites.pendingFor(orgId, 'inv@example.com', T0 + 99)).toEqual(invite)
      expect(await repos().invites.pendingFor(orgId, 'inv@example.com', T0 + 100)).toBeUndefined()
      expect(await repos().invites.accept(invite.id, 'user-x', T0 + 1)).toBe(true)
      expect(await repos().invites.accept(invite.id, 'user-y', T0 + 2)).toBe(false)
      expect(await repos().invites.get(orgId, invite.id)).toMatchObject({
        status: 'accepted',
        user_id: 'user-x',
        accepted_at: T0 + 1,
      })
      expect(await repos().invites.delete(orgId, invite.id)).toBe(true)
      expect(await repos().invites.delete(orgId, invite.id)).toBe(false)
    })
  })

  describe('project users and service accounts', () => {
    it('memberships join the user; one per user and project; scoped to the project', async () => {
      const u1 = user('m1@example.com')
      const u2 = user('m2@example.com')
      await repos().users.insert(u1)
      await repos().users.insert(u2)
      for (const u of [u2, u1])
        await repos().projectUsers.insert({
          project_id: projectId,
          user_id: u.id,
          role: 'member',
          added_at: T0,
        })
      await expect(
        repos().projectUsers.insert({
          project_id: projectId,
          user_id: u1.id,
          role: 'owner',
          added_at: T0,
        }),
      ).rejects.toThrow()
      expect(await repos().projectUsers.get(projectId, u1.id)).toEqual({
        project_id: projectId,
        user_id: u1.id,
        role: 'member',
        added_at: T0,
        name: 'm1',
        email: 'm1@example.com',
      })
      expect(await repos().projectUsers.get(archivedId, u1.id)).toBeUndefined()
      const page = await repos().projectUsers.page(projectId, { limit: 1 })
      expect(page.map((m) => m.user_id)).toEqual([u1.id, u2.id].sort())
      await repos().projectUsers.setRole(projectId, u1.id, 'owner')
      expect((await repos().projectUsers.get(projectId, u1.id))!.role).toBe('owner')
      await repos().projectUsers.deleteUser(u2.id)
      expect(await repos().projectUsers.get(projectId, u2.id)).toBeUndefined()
      expect(await repos().projectUsers.delete(projectId, u1.id)).toBe(true)
    })

    it('service accounts are found in their project only', async () => {
      const account = {
        id: newId('svc_acct_'),
        project_id: projectId,
        name: 'bot',
        role: 'member' as const,
        created_at: T0,
      }
      await repos().serviceAccounts.insert(account)
      expect(await repos().serviceAccounts.get(projectId, account.id)).toEqual(account)
      expect(await repos().serviceAccounts.get(archivedId, account.id)).toBeUndefined()
      expect(await repos().serviceAccounts.page(projectId, { limit: 10 })).toEqual([account])
      expect(await repos().serviceAccounts.delete(archivedId, account.id)).toBe(false)
      expect(await repos().serviceAccounts.delete(projectId, account.id)).toBe(true)
    })
  })

  describe('api keys', () => {
    it('findForAuth resolves the owning user (system keys: the organization owner), the project policy', async () => {
      const owner = user('boss@example.com', 'owner')
      await repos().users.insert(owner)
      await repos().organizations.setOwner(orgId, owner.id)
      await repos().projects.setModelPolicy(projectId, 'deny_list', ['x'])
      const system = key()
      const account = key({ owner_type: 'service_account', owner_id: 'svc_acct_1' })
      const admin = key({ project_id: null, kind: 'admin', owner_type: 'user', owner_id: owner.id })
      for (const k of [system, account, admin]) await repos().apiKeys.insert(k)
      expect(await repos().apiKeys.findForAuth(system.secret_hash)).toEqual({
        ...system,
        project_status: 'active',
        model_mode: 'deny_list',
        model_ids: '["x"]',
        request_log_bodies: 0,
        user_id: owner.id,
        user_email: 'boss@example.com',
        user_role: 'owner',
      })
      expect(await repos().apiKeys.findForAuth(account.secret_hash)).toMatchObject({
        user_id: null,
        user_email: null,
      })
      expect(await repos().apiKeys.findForAuth(admin.secret_hash)).toMatchObject({
        project_status: null,
        model_mode: null,
        user_role: 'owner',
      })
      expect(await repos().apiKeys.findForAuth('nope')).toBeUndefined()
      await repos().projects.setModelPolicy(projectId, null, null)
    })

    it('pages per project (null: admin keys) both ways; by owner; delete; permissions', async () => {
      const mine = [key(), key(), key()]
      for (const k of mine) await repos().apiKeys.insert(k)
      const ids = (await repos().apiKeys.page(orgId, projectId, { limit: 100 })).map((k) => k.id)
      expect(ids).toEqual([...ids].sort())
      expect(ids).toEqual(expect.arrayContaining(mine.map((k) => k.id)))
      const desc = (
        await repos().apiKeys.page(orgId, projectId, { limit: 100, order: 'desc' })
      ).map((k) => k.id)
      expect(desc).toEqual([...ids].reverse())
      expect(
        (await repos().apiKeys.page(orgId, projectId, { limit: 1, after: ids[0] }))[0].id,
      ).toBe(ids[1])
      expect(
        (await repos().apiKeys.page(orgId, null, { limit: 100 })).every((k) => k.kind === 'admin'),
      ).toBe(true)
      const owned = key({ owner_type: 'user', owner_id: 'user-owned' })
      await repos().apiKeys.insert(owned)
      expect((await repos().apiKeys.byOwner('user', 'user-owned')).map((k) => k.id)).toEqual([
        owned.id,
      ])
      expect(await repos().apiKeys.byOwner('user', 'user-owned', archivedId)).toEqual([])
      await repos().apiKeys.setPermissions(owned.id, '{"mode":"read_only"}')
      expect((await repos().apiKeys.get(owned.id))!.permissions).toBe('{"mode":"read_only"}')
      expect(await repos().apiKeys.delete(owned.id)).toBe(true)
      expect(await repos().apiKeys.delete(owned.id)).toBe(false)
    })
  })

  describe('audit logs', () => {
    const entries: AuditLogRow[] = []
    beforeAll(async () => {
      const base = { org_id: orgId, project_name: null, actor_ip: null, details: '{}' }
      const rows: Partial<AuditLogRow>[] = [
        {
          type: 'project.created',
          effective_at: T0,
          project_id: projectId,
          actor_type: 'api_key',
          actor_key_id: 'key_a',
          actor_owner_type: 'user',
          actor_owner_id: 'user-a',
          actor_email: 'a@x',
          resource_id: projectId,
        },
        {
          type: 'invite.sent',
          effective_at: T0 + 10,
          project_id: null,
          actor_type: 'api_key',
          actor_key_id: 'key_b',
          actor_owner_type: 'user',
          actor_owner_id: 'user-b',
          actor_email: 'b@x',
          resource_id: 'invite-1',
        },
        {
          type: 'api_key.created',
          effective_at: T0 + 20,
          project_id: projectId,
          actor_type: 'api_key',
          actor_key_id: 'key_c',
          actor_owner_type: 'service_account',
          actor_owner_id: 'svc_acct_c',
          actor_email: null,
          resource_id: 'key_new',
        },
        {
          type: 'invite.accepted',
          effective_at: T0 + 30,
          project_id: null,
          actor_type: 'session',
          actor_key_id: null,
          actor_owner_type: 'user',
          actor_owner_id: 'user-d',
          actor_email: 'd@x',
          resource_id: 'invite-1',
        },
      ]
      for (const r of rows) {
        const row = { ...base, id: newId('audit_log-'), ...r } as AuditLogRow
        entries.push(row)
        await repos().auditLogs.insert(row)
      }
      // another organization's entry never shows
      await repos().auditLogs.insert({
        ...entries[0],
        id: newId('audit_log-'),
        org_id: 'org-other',
      })
    })
    const ids = async (filter: Parameters<ReturnType<typeof repos>['auditLogs']['page']>[1]) =>
      (await repos().auditLogs.page(orgId, filter)).rows.map((r) => r.type)

    it('newest first, with every filter', async () => {
      expect(await ids({ limit: 10 })).toEqual([
        'invite.accepted',
        'api_key.created',
        'invite.sent',
        'project.created',
      ])
      expect(await ids({ limit: 10, types: ['invite.sent', 'invite.accepted'] })).toEqual([
        'invite.accepted',
        'invite.sent',
      ])
      expect(await ids({ limit: 10, projectIds: [projectId] })).toEqual([
        'api_key.created',
        'project.created',
      ])
      expect(await ids({ limit: 10, resourceIds: ['invite-1'] })).toEqual([
        'invite.accepted',
        'invite.sent',
      ])
      expect(await ids({ limit: 10, actorIds: ['key_a', 'svc_acct_c'] })).toEqual([
        'api_key.created',
        'project.created',
      ])
      expect(await ids({ limit: 10, actorIds: ['user-d'] })).toEqual(['invite.accepted'])
      expect(await ids({ limit: 10, actorEmails: ['b@x'] })).toEqual(['invite.sent'])
      expect(await ids({ limit: 10, actorEmails: [] })).toEqual([])
      expect(await ids({ limit: 10, effectiveAt: { gt: T0, lte: T0 + 20 } })).toEqual([
        'api_key.created',
        'invite.sent',
      ])
      expect(await ids({ limit: 10, effectiveAt: { gte: T0 + 30 } })).toEqual(['invite.accepted'])
      expect(await ids({ limit: 10, effectiveAt: { lt: T0 + 10 } })).toEqual(['project.created'])
    })

    it('after pages to older entries, before to newer ones', async () => {
      const [e0, e1, e2, e3] = entries
      const first = await repos().auditLogs.page(orgId, { limit: 2 })
      expect([first.rows.map((r) => r.id), first.hasMore]).toEqual([[e3.id, e2.id], true])
      const next = await repos().auditLogs.page(orgId, { limit: 2, after: e2.id })
      expect([next.rows.map((r) => r.id), next.hasMore]).toEqual([[e1.id, e0.id], false])
      const back = await repos().auditLogs.page(orgId, { limit: 2, before: e0.id })
      expect([back.rows.map((r) => r.id), back.hasMore]).toEqual([[e2.id, e1.id], true])
      const between = await repos().auditLogs.page(orgId, { limit: 5, after: e3.id, before: e0.id })
      expect(between.rows.map((r) => r.id)).toEqual([e2.id, e1.id])
    })
  })
})
skippedPgCase('organization repositories')
