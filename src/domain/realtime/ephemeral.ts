import { hashSecret } from '../organization/keys.js'
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
 * as API keys are: the secret is returned once. They live in this process's memory for their
 * short life (a minute unless the request asked for more, at most two hours), so a socket must
 * be opened on the node that made the key (docs/realtime.md).
 */
export class EphemeralKeys {
  private readonly grants = new Map<string, EphemeralGrant>()

  issue(grant: Omit<EphemeralGrant, 'principal'> & { principal: ProjectPrincipal }): { value: string; expires_at: number } {
    this.sweep()
    const value = newSecret('ek_')
    const { request: _request, ...principal } = grant.principal
    this.grants.set(hashSecret(value), { ...grant, principal })
    return { value, expires_at: grant.expiresAt }
  }

  /** The grant of a live key; undefined when unknown or expired (an expired one is forgotten). */
  redeem(secret: string): EphemeralGrant | undefined {
    const hash = hashSecret(secret)
    const grant = this.grants.get(hash)
    if (!grant) return undefined
    if (grant.expiresAt <= nowSeconds()) {
      this.grants.delete(hash)
      return undefined
    }
    return grant
  }

  private sweep() {
    const now = nowSeconds()
    for (const [hash, grant] of this.grants) if (grant.expiresAt <= now) this.grants.delete(hash)
  }
}

/** A session's id (sess_...), for the REST answers. */
export const newSessionId = () => newId('sess_')

/** When a key asked to live `seconds` (a minute unless asked: client_secret.expires_after) expires. */
export const expiresIn = (seconds = 60) => nowSeconds() + seconds
