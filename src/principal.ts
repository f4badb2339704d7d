/** Who is calling: resolved from the bearer key by the auth middleware, passed to every service. */
export type Principal = {
  orgId: string
  /** The key's project; null for admin keys. */
  projectId: string | null
  keyId: string
  kind: 'admin' | 'project'
  /** Key permissions: all, read_only, or restricted per resource (enforced from issue 5 on). */
  permissions: { mode: 'all' | 'read_only' | 'restricted'; scopes?: Record<string, 'none' | 'read' | 'write'> }
}

/** A principal that is known to belong to a project (project routes). */
export type ProjectPrincipal = Principal & { projectId: string; kind: 'project' }
