import { z } from 'zod'
import type { Access, KeyPermissions } from '../principal.js'

/**
 * What a restricted key can be granted, per resource (OpenAI's restricted keys: none, read or
 * write on each). Write includes read. Routes map to these in http/permissions.ts.
 */
export const KEY_RESOURCES = [
  'models',
  'chat',
  'responses',
  'files',
  'batches',
  'assistants',
  'vector_stores',
  'fine_tuning',
  'audio',
  'images',
  'embeddings',
  'moderations',
  'evals',
  'realtime',
] as const

export type KeyResource = (typeof KEY_RESOURCES)[number]

/** Resources of the Administration API; admin keys act with their user's role on them. */
export type AdminResource = 'management' | 'audit_logs' | 'usage'

// OpenAI's scope names where they are known from its errors (api.model.read, api.responses.write,
// api.usage.read); the others follow the same api.<resource>.<read|write> pattern.
const SCOPE_NAMES: Record<string, string> = {
  models: 'api.model',
  batches: 'api.batch',
  audit_logs: 'api.audit_logs',
}

/** `api.model.read`, `api.files.write`...: how a missing permission is named in errors. */
export function scopeName(resource: string, access: Exclude<Access, 'none'>): string {
  return `${SCOPE_NAMES[resource] ?? `api.${resource}`}.${access}`
}

/** The scopes a key holds, as audit logs list them (`api_key.created` data.scopes). */
export function scopesOf(permissions: KeyPermissions): string[] {
  if (permissions.mode === 'all') return KEY_RESOURCES.map((r) => scopeName(r, 'write'))
  if (permissions.mode === 'read_only') return KEY_RESOURCES.map((r) => scopeName(r, 'read'))
  return Object.entries(permissions.scopes ?? {})
    .filter((entry): entry is [string, 'read' | 'write'] => entry[1] !== 'none')
    .map(([resource, access]) => scopeName(resource, access))
}

/** An admin key's scopes: its user's role decides (readers only read). */
export function adminScopesOf(role: 'owner' | 'reader'): string[] {
  const read = (['management', 'audit_logs', 'usage'] as const).map((r) => scopeName(r, 'read'))
  return role === 'owner' ? [...read, scopeName('management', 'write')] : read
}

export const KeyPermissionsSchema = z.union([
  z.strictObject({ mode: z.enum(['all', 'read_only']) }),
  z.strictObject({
    mode: z.literal('restricted'),
    scopes: z.partialRecord(z.enum(KEY_RESOURCES), z.enum(['none', 'read', 'write'])),
  }),
])

/**
 * The CLI's spelling: `all`, `read_only`, or `resource=access,...` (restricted; resources not
 * named get none), e.g. `models=read,chat=write`.
 */
export function parseKeyPermissions(text: string): KeyPermissions {
  const value = text.trim()
  if (value === 'all' || value === 'read_only') return { mode: value }
  const scopes: Record<string, Access> = {}
  for (const part of value.split(',').filter(Boolean)) {
    const [resource, access] = part.split('=').map((s) => s.trim())
    if (!(KEY_RESOURCES as readonly string[]).includes(resource)) {
      throw new Error(`unknown resource '${resource}' (one of ${KEY_RESOURCES.join(', ')})`)
    }
    if (access !== 'none' && access !== 'read' && access !== 'write') {
      throw new Error(`access for '${resource}' must be none, read or write, not '${access}'`)
    }
    scopes[resource] = access
  }
  return { mode: 'restricted', scopes }
}
