import crypto from 'node:crypto'
import { archivedProjectKey, invalidApiKey, invalidRequest } from '../../errors.js'
import { projectModelPolicy, type KeyOwner, type KeyPermissions, type ModelPolicy, type Principal } from '../../principal.js'
import type { ApiKeyForAuth, ApiKeyRow } from '../../storage/repositories/api-keys.js'
import { createRepos } from '../../storage/repositories/index.js'
import { newId, newSecret, nowSeconds } from '../../storage/ids.js'
import type { Storage } from '../../storage/storage.js'
import { DEFAULT_MAX_STALE_MS, KeyCache } from './key-cache.js'

/**
 * Keys are looked up by this hash on every request. `crypto.hash` (Node 20.12+) is the one-shot
 * form: a third of createHash's time, with no Hash object to collect; older Nodes take the latter.
 */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash
export function hashSecret(secret: string): string {
  return oneShot ? oneShot('sha256', secret, 'hex') : crypto.createHash('sha256').update(secret).digest('hex')
}

/** What a listing may show of a key: `sk-proj-abc...wxyz`, never the secret. */
export function redact(secret: string): string {
  const dash = secret.lastIndexOf('-', 9)
  const head = secret.slice(0, Math.max(dash + 1, 8) + 3)
  return `${head}...${secret.slice(-4)}`
}

export type CreatedKey = { row: ApiKeyRow; secret: string }

const TOUCH_EVERY_SECONDS = 60

/**
 * API keys: creation (the secret is returned once), authentication by hash.
 *
 * Principals are cached (KeyCache). Whatever revokes or narrows a key (deleting a key, a user or
 * a service account, archiving a project, changing a role, a key's permissions or a project's
 * model permissions) calls `revoked()` once committed: the cache is cleared here at once and on
 * the other nodes when the change feed tells them (milliseconds on PostgreSQL). A cached
 * principal is never older than `maxStaleMs`, the bound when a notification is lost.
 */
export class KeysService {
  private readonly touched = new Map<string, number>()
  readonly cache: KeyCache
  private listening = false

  /**
   * @param clientCertificates load each principal's required client certificates (mutual TLS is
   *   configured: server.clientCertificateHeader); certificate activations call `revoked()`.
   */
  constructor(
    private readonly storage: Storage,
    maxStaleMs = DEFAULT_MAX_STALE_MS,
    private readonly clientCertificates = false,
  ) {
    this.cache = new KeyCache(maxStaleMs)
  }

  async create(input: {
    orgId: string
    projectId: string | null
    name: string
    secret?: string
    ownerType?: ApiKeyRow['owner_type']
    ownerId?: string | null
    permissions?: KeyPermissions
  }): Promise<CreatedKey> {
    const kind = input.projectId ? 'project' : 'admin'
    const secret = input.secret ?? newSecret(kind === 'admin' ? 'sk-admin-' : 'sk-proj-')
    if (kind === 'admin' && !secret.startsWith('sk-admin-'))
      throw invalidRequest('Admin keys start with sk-admin-.')
    if (kind === 'project' && !secret.startsWith('sk-proj-'))
      throw invalidRequest('Project keys start with sk-proj-.')
    const row: ApiKeyRow = {
      id: newId('key_'),
      org_id: input.orgId,
      project_id: input.projectId,
      kind,
      name: input.name,
      secret_hash: hashSecret(secret),
      redacted_value: redact(secret),
      owner_type: input.ownerType ?? 'system',
      owner_id: input.ownerId ?? null,
      permissions: JSON.stringify(input.permissions ?? { mode: 'all' }),
      created_at: nowSeconds(),
      last_used_at: null,
    }
    await createRepos(this.storage.db).apiKeys.insert(row)
    return { row, secret }
  }

  list(filter: { projectId?: string | null } = {}) {
    return createRepos(this.storage.db).apiKeys.list(filter)
  }

  /** Forget cached principals, on every node: a key, project, role or model policy changed. */
  async revoked(): Promise<void> {
    this.cache.clear()
    await this.storage.changes.publish('keys')
  }

  /** The principal of an active key, by its secret's hash (dashboard sessions keep only the hash). */
  async principalForHash(hash: string): Promise<Principal | undefined> {
    const row = await createRepos(this.storage.db).apiKeys.findForAuth(hash)
    if (!row || (row.project_id && row.project_status !== 'active')) return undefined
    return toPrincipal(row)
  }

  /** The secret's principal when it is cached, else undefined (then `authenticate` looks it up). */
  cached(secret: string): Principal | undefined {
    return this.cache.get(hashSecret(secret))
  }

  /** Bearer secret → Principal; 401 for unknown keys and for keys of archived projects. */
  async authenticate(secret: string): Promise<Principal> {
    const hash = hashSecret(secret)
    const cached = this.cache.get(hash)
    if (cached) return cached
    if (!this.listening) {
      // the first lookup, not the constructor: services bound to a transaction make their own
      this.listening = true
      this.storage.changes.subscribe('keys', () => this.cache.clear())
    }
    const version = this.cache.version
    const repos = createRepos(this.storage.db)
    const row = await repos.apiKeys.findForAuth(hash)
    if (!row) throw invalidApiKey(secret)
    if (row.project_id && row.project_status !== 'active') throw archivedProjectKey(row.project_id)
    const now = nowSeconds()
    if ((this.touched.get(row.id) ?? 0) + TOUCH_EVERY_SECONDS <= now) {
      this.touched.set(row.id, now)
      // last_used_at is informational: written at most once a minute, off the request path
      repos.apiKeys.touch(row.id, now).catch(() => {})
    }
    const principal = toPrincipal(row)
    if (this.clientCertificates) {
      const required = await repos.certificates.activeFingerprints(row.org_id, row.project_id)
      if (required.length) principal.clientCertificates = required
    }
    this.cache.set(hash, principal, version)
    return principal
  }
}

function toPrincipal(row: ApiKeyForAuth): Principal {
  const principal: Principal = {
    orgId: row.org_id,
    projectId: row.project_id,
    keyId: row.id,
    kind: row.kind,
    permissions: JSON.parse(row.permissions),
  }
  const owner = ownerOf(row)
  if (owner) principal.owner = owner
  if (row.user_role) principal.role = row.user_role
  const models = modelPolicyOf(row)
  if (models) principal.models = models
  if (Number(row.request_log_bodies) === 1) principal.logBodies = true
  return principal
}

function ownerOf(row: ApiKeyForAuth): KeyOwner | undefined {
  if (row.owner_type === 'service_account' && row.owner_id)
    return { type: 'service_account', id: row.owner_id }
  if (row.user_id && row.user_email) return { type: 'user', id: row.user_id, email: row.user_email }
  return undefined
}

function modelPolicyOf(row: ApiKeyForAuth): ModelPolicy | undefined {
  if (!row.project_id) return undefined
  return projectModelPolicy(row.project_id, row.model_mode, row.model_ids)
}
