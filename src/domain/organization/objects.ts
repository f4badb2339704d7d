import type { ApiKeyRow } from '../../storage/repositories/api-keys.js'
import type { CertificateRow } from '../../storage/repositories/certificates.js'
import type { InviteRow } from '../../storage/repositories/invites.js'
import type { ProjectRow } from '../../storage/repositories/organizations.js'
import type { ProjectMemberRow } from '../../storage/repositories/project-users.js'
import type { ServiceAccountRow } from '../../storage/repositories/service-accounts.js'
import type { UserRow } from '../../storage/repositories/users.js'

// The Administration API's wire objects, in the spec's shapes (components.schemas User, Invite,
// Project, ProjectUser, ProjectServiceAccount, ProjectApiKey, AdminApiKey).

export function toUser(row: UserRow) {
  return {
    object: 'organization.user' as const,
    id: row.id,
    name: row.name,
    email: row.email,
    role: row.role,
    added_at: row.added_at,
  }
}

export type InviteStatus = 'pending' | 'accepted' | 'expired'

export function inviteStatus(row: InviteRow, now: number): InviteStatus {
  if (row.status === 'accepted') return 'accepted'
  return row.expires_at <= now ? 'expired' : 'pending'
}

export function toInvite(row: InviteRow, now: number) {
  return {
    object: 'organization.invite' as const,
    id: row.id,
    email: row.email,
    role: row.role,
    status: inviteStatus(row, now),
    invited_at: row.invited_at,
    expires_at: row.expires_at,
    accepted_at: row.accepted_at,
    projects: JSON.parse(row.projects) as { id: string; role: 'member' | 'owner' }[],
  }
}

export function toProject(row: ProjectRow) {
  return {
    id: row.id,
    object: 'organization.project' as const,
    name: row.name,
    created_at: row.created_at,
    archived_at: row.archived_at,
    status: row.status,
  }
}

export function toProjectUser(row: ProjectMemberRow) {
  return {
    object: 'organization.project.user' as const,
    id: row.user_id,
    name: row.name,
    email: row.email,
    role: row.role,
    added_at: row.added_at,
  }
}

export function toServiceAccount(row: ServiceAccountRow) {
  return {
    object: 'organization.project.service_account' as const,
    id: row.id,
    name: row.name,
    role: row.role,
    created_at: row.created_at,
  }
}

export type ProjectKeyOwner =
  | { type: 'user'; user: ReturnType<typeof toProjectUser> }
  | { type: 'service_account'; service_account: ReturnType<typeof toServiceAccount> }

export function toProjectApiKey(row: ApiKeyRow, owner: ProjectKeyOwner) {
  return {
    object: 'organization.project.api_key' as const,
    redacted_value: row.redacted_value,
    name: row.name,
    created_at: row.created_at,
    last_used_at: row.last_used_at,
    id: row.id,
    owner,
  }
}

/** An admin key; `value` (the secret) only in the answer to its creation. */
export function toAdminApiKey(row: ApiKeyRow, owner: UserRow, value?: string) {
  return {
    object: 'organization.admin_api_key' as const,
    id: row.id,
    name: row.name,
    redacted_value: row.redacted_value,
    created_at: row.created_at,
    last_used_at: row.last_used_at,
    owner: {
      type: 'user' as const,
      object: 'organization.user' as const,
      id: owner.id,
      name: owner.name,
      created_at: owner.added_at,
      role: owner.role,
    },
    ...(value !== undefined ? { value } : {}),
  }
}

export function deleted<T extends string>(object: T, id: string) {
  return { object, id, deleted: true as const }
}

/**
 * A certificate (the spec's Certificate): `certificate` alone (upload, get, modify; `content`
 * only when asked for), or in a list with `active` at the organization's or a project's scope.
 */
export function toCertificate(row: CertificateRow, withContent = false) {
  return {
    object: 'certificate' as const,
    id: row.id,
    name: row.name,
    created_at: row.created_at,
    certificate_details: {
      valid_at: row.valid_at,
      expires_at: row.expires_at,
      ...(withContent ? { content: row.content } : {}),
    },
  }
}

export function toScopedCertificate(
  row: CertificateRow,
  object: 'organization.certificate' | 'organization.project.certificate',
  active: boolean,
) {
  return {
    object,
    id: row.id,
    name: row.name,
    active,
    created_at: row.created_at,
    certificate_details: { valid_at: row.valid_at, expires_at: row.expires_at },
  }
}
