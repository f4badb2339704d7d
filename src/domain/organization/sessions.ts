import type { Principal } from '../../principal.js'
import type { Storage } from '../../storage/storage.js'
import { recordAudit, type Actor } from './audit.js'

/**
 * Dashboard sign-ins and sign-outs, as OpenAI's `login.*` and `logout.*` audit events: the person
 * acts in a session (the user the admin key belongs to, and the address they came from).
 */
export class SessionAudit {
  constructor(private readonly storage: Storage) {}

  async loginSucceeded(principal: Principal, ip?: string) {
    await recordAudit(this.storage, principal.orgId, sessionOf(principal, ip), {
      type: 'login.succeeded',
      details: { api_key_id: principal.keyId },
    })
  }

  /** A refused sign-in; `principal` when the key was valid but may not sign in (a project key). */
  async loginFailed(
    orgId: string,
    error: { code: string; message: string },
    principal?: Principal,
    ip?: string,
  ) {
    const actor: Actor = principal ? sessionOf(principal, ip) : { type: 'session', ip }
    await recordAudit(this.storage, orgId, actor, {
      type: 'login.failed',
      details: { error_code: error.code, error_message: error.message },
    })
  }

  async logoutSucceeded(principal: Principal, ip?: string) {
    await recordAudit(this.storage, principal.orgId, sessionOf(principal, ip), {
      type: 'logout.succeeded',
      details: { api_key_id: principal.keyId },
    })
  }
}

function sessionOf(principal: Principal, ip?: string): Actor {
  const user =
    principal.owner?.type === 'user'
      ? { id: principal.owner.id, email: principal.owner.email }
      : undefined
  return { type: 'session', user, ip }
}
