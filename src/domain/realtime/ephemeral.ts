import { hashSecret, type KeysService } from '../organization/keys.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'
import { newId, newSecret, nowSeconds } from '../../storage/ids.js'
import type { ProjectPrincipal } from '../../principal.js'

/** What an ephemeral key opens: its project's principal, the session it was made for, until when. */
export type EphemeralGrant = {
  principal: ProjectPrincipal
  /** The session configuration of POST /v1/realtime/sessions (or of a transcription session). */
  session: Record<string, unknown>
  kind: 'realtime' | 'transcription'
  expiresAt: number
}

/**
 * Ephemeral client secrets (`ek_...`) of the Realtime sessions, kept by their SHA-256 hash only,
 * as API keys are: the secret is returned once. They are rows of `realtime_client_secrets`, so a
 * socket may open on any node or worker, and they carry no copy of the principal: the API key
 * that made one is looked up when the socket opens, so a revoked key (or an archived project)
 * stops its ephemeral keys at once. A minute's life unless asked for more, at most two hours.
 */
export class EphemeralKeys {
  constructor(
    private readonly storage: Storage,
    private readonly keys: Pick<KeysService, 'principalForHash'>,
  ) {}

  async issue(grant: Omit<EphemeralGrant, 'principal'> & { principal: ProjectPrincipal }): Promise<{ value: string; expires_at: number }> {
    const value = newSecret('ek_')
    const db = this.storage.db
    // the expired ones go as new ones come: the table holds live keys and a few minutes' worth
    await db.deleteFrom('realtime_client_secrets').where('expires_at', '<=', nowSeconds()).execute()
    await db
      .insertInto('realtime_client_secrets')
      .values({ secret_hash: hashSecret(value), key_id: grant.principal.keyId, kind: grant.kind, session: JSON.stringify(grant.session), expires_at: grant.expiresAt })
      .execute()
    return { value, expires_at: grant.expiresAt }
  }

  /** The grant of a live key whose API key still stands; undefined otherwise. */
  async redeem(secret: string): Promise<EphemeralGrant | undefined> {
    const row = await this.storage.db
      .selectFrom('realtime_client_secrets')
      .selectAll()
      .where('secret_hash', '=', hashSecret(secret))
      .where('expires_at', '>', nowSeconds())
      .executeTakeFirst()
    if (!row) return undefined
    const key = await createRepos(this.storage.db).apiKeys.get(row.key_id)
    const principal = key ? await this.keys.principalForHash(key.secret_hash) : undefined
    if (!principal || principal.kind !== 'project' || !principal.projectId) return undefined
    return { principal: principal as ProjectPrincipal, session: JSON.parse(row.session) as Record<string, unknown>, kind: row.kind, expiresAt: Number(row.expires_at) }
  }
}

/** A session's id (sess_...), for the REST answers. */
export const newSessionId = () => newId('sess_')

/** When a key asked to live `seconds` (a minute unless asked: client_secret.expires_after) expires. */
export const expiresIn = (seconds = 60) => nowSeconds() + seconds
