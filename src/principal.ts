import type { RequestRecord } from './request-context.js'

/** Who is calling: resolved from the bearer key by the auth middleware, passed to every service. */
export type Principal = {
  orgId: string
  /** The key's project; null for admin keys. */
  projectId: string | null
  keyId: string
  kind: 'admin' | 'project'
  /** Key permissions: all, read_only, or restricted per resource (http/permissions.ts enforces them). */
  permissions: KeyPermissions
  /** Who the key belongs to (audit logs name them as the actor). */
  owner?: KeyOwner
  /** The owning user's organization role; a reader's admin key can only read. */
  role?: 'owner' | 'reader'
  /** The project's model permissions; absent: every model. */
  models?: ModelPolicy
  /**
   * SHA-256 fingerprints of the client certificates active for the key's organization (and
   * project): the request must present one (http/client-certificate.ts). Absent: none required,
   * or mutual TLS is not configured.
   */
  clientCertificates?: readonly string[]
  /** The project keeps prompt and answer text in the dashboard's request log (its opt-in). */
  logBodies?: boolean
  /**
   * The HTTP request this principal is calling in, when it is one (withRequest): where the domain
   * notes the model, tokens and first token for the access log and metrics. Absent in jobs.
   */
  request?: RequestRecord
}

/** The principal of one HTTP request, carrying its record (the cached principal stays as it is). */
export function withRequest<P extends Principal>(principal: P, record: RequestRecord | undefined): P {
  return record ? { ...principal, request: record } : principal
}

/** A principal that is known to belong to a project (project routes). */
export type ProjectPrincipal = Principal & { projectId: string; kind: 'project' }

export type Access = 'none' | 'read' | 'write'

/** What a key may do: everything, only read, or per resource (OpenAI's restricted keys). */
export type KeyPermissions = {
  mode: 'all' | 'read_only' | 'restricted'
  scopes?: Record<string, Access>
}

export type KeyOwner =
  { type: 'user'; id: string; email: string } | { type: 'service_account'; id: string }

/** A project's model permissions: OpenAI's `project.model_permissions`. */
export type ModelPolicy = {
  projectId: string
  mode: 'allow_list' | 'deny_list'
  modelIds: readonly string[]
}

/**
 * A project's policy from its stored columns. A project without model permissions still gets a
 * policy (an empty deny list: every model), so the registry knows the project and can show it
 * the fine-tuned models it owns or was granted.
 */
export function projectModelPolicy(
  projectId: string,
  mode: ModelPolicy['mode'] | null | undefined,
  modelIds: string | null | undefined,
): ModelPolicy {
  if (!mode || modelIds === null || modelIds === undefined)
    return { projectId, mode: 'deny_list', modelIds: [] }
  return { projectId, mode, modelIds: JSON.parse(modelIds) as string[] }
}

/**
 * The principal a background job (a batch, an eval run) acts as: the project, with every
 * permission and the project's model permissions as they are now, billing the key that created
 * the job (`keyId` empty when that key is gone).
 */
export function jobPrincipal(
  job: { org_id: string; project_id: string; api_key_id: string | null },
  project?: { model_mode: ModelPolicy['mode'] | null; model_ids: string | null },
): ProjectPrincipal {
  return {
    orgId: job.org_id,
    projectId: job.project_id,
    keyId: job.api_key_id ?? '',
    kind: 'project',
    permissions: { mode: 'all' },
    models: projectModelPolicy(job.project_id, project?.model_mode, project?.model_ids),
  }
}

/** Whether the policy lets the project use `model` (the exact public id; no policy: any). */
export function modelAllowed(policy: ModelPolicy | undefined, model: string): boolean {
  if (!policy) return true
  const listed = policy.modelIds.includes(model)
  return policy.mode === 'allow_list' ? listed : !listed
}
