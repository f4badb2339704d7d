import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createAdminServices } from '../../src/domain/organization/index.js'
import { KeysService } from '../../src/domain/organization/keys.js'
import { createRepos } from '../../src/storage/repositories/index.js'
import { openStorage } from '../../src/storage/storage.js'

// The organization commands of the CLI, as real processes on one SQLite file.

const root = path.resolve(import.meta.dirname, '../..')
const tsx = path.join(root, 'node_modules/tsx/dist/cli.mjs')
const entry = path.join(root, 'test/cli/run-cli.ts')
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-cli-org-'))
const env = { ...process.env }
delete (env as Record<string, string | undefined>).PLINTH_BOOTSTRAP_ADMIN_KEY
delete (env as Record<string, string | undefined>).PLINTH_BOOTSTRAP_PROJECT_KEY

function cli(args: string[]) {
  return spawnSync(process.execPath, [tsx, entry, ...args, '--data-dir', dataDir], {
    env,
    encoding: 'utf8',
  })
}

async function withStorage<T>(
  fn: (storage: Awaited<ReturnType<typeof openStorage>>) => Promise<T>,
): Promise<T> {
  const storage = await openStorage({ kind: 'sqlite', path: path.join(dataDir, 'plinth.db') })
  try {
    return await fn(storage)
  } finally {
    await storage.close()
  }
}

afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }))

describe('plinth invites and keys', () => {
  it('invites accept TOKEN makes the user and prints their admin key once', async () => {
    const created = cli(['keys', 'create', '--admin', '--name', 'ops'])
    expect(created.status, created.stderr).toBe(0)
    expect(created.stdout.trim()).toMatch(/^sk-admin-/)
    const token = await withStorage(async (storage) => {
      const org = (await createRepos(storage.db).organizations.first())!
      const principal = {
        orgId: org.id,
        projectId: null,
        keyId: 'test',
        kind: 'admin' as const,
        permissions: { mode: 'all' as const },
      }
      const invite = await createAdminServices(storage, new KeysService(storage)).invites.create(
        principal,
        { email: 'cli@example.com', role: 'owner' },
      )
      return invite.accept_token
    })
    const accepted = cli(['invites', 'accept', token, '--name', 'Cli User'])
    expect(accepted.status, accepted.stderr).toBe(0)
    expect(accepted.stdout.trim()).toMatch(/^sk-admin-/)
    expect(accepted.stderr).toContain('cli@example.com joined as owner')
    const again = cli(['invites', 'accept', token])
    expect(again.status).toBe(1)
    expect(again.stderr).toContain('has already been accepted')
    await withStorage(async (storage) => {
      const repos = createRepos(storage.db)
      const org = (await repos.organizations.first())!
      const user = (await repos.users.byEmail(org.id, 'cli@example.com'))!
      expect(user).toMatchObject({ name: 'Cli User', role: 'owner' })
      const log = await repos.auditLogs.page(org.id, { limit: 10, types: ['invite.accepted'] })
      expect(log.rows[0]).toMatchObject({
        actor_type: 'session',
        actor_owner_id: user.id,
        actor_ip: '127.0.0.1',
      })
    })
  })

  it('keys create --permissions and keys permissions set what a key may do, audited as the owner', async () => {
    const created = cli([
      'keys',
      'create',
      '--project',
      'default',
      '--permissions',
      'models=read,chat=write',
      '--user',
      'cli@example.com',
    ])
    expect(created.status, created.stderr).toBe(0)
    const keyId = /created project key (key_\w+)/.exec(created.stderr)![1]
    const listed = cli(['keys', 'list'])
    expect(listed.stdout).toContain(`${keyId}\tproject`)
    expect(listed.stdout).toContain(
      '{"mode":"restricted","scopes":{"models":"read","chat":"write"}}',
    )
    const changed = cli(['keys', 'permissions', keyId, '--permissions', 'read_only'])
    expect(changed.status, changed.stderr).toBe(0)
    await withStorage(async (storage) => {
      const repos = createRepos(storage.db)
      const key = (await repos.apiKeys.get(keyId))!
      expect(JSON.parse(key.permissions)).toEqual({ mode: 'read_only' })
      const user = (await repos.users.byEmail(key.org_id, 'cli@example.com'))!
      expect(key).toMatchObject({ owner_type: 'user', owner_id: user.id })
      const log = await repos.auditLogs.page(key.org_id, { limit: 10, resourceIds: [keyId] })
      expect(log.rows.map((r) => [r.type, r.actor_type, r.actor_email])).toEqual([
        ['api_key.updated', 'session', 'owner@localhost'],
        ['api_key.created', 'session', 'owner@localhost'],
      ])
    })
    const bad = cli(['keys', 'create', '--project', 'default', '--permissions', 'spaceships=write'])
    expect(bad.status).toBe(1)
    expect(bad.stderr).toContain("--permissions: unknown resource 'spaceships'")
  })
})
