import { z } from 'zod'
import { queryInteger } from './query-integer.js'

// Requests of the Administration API: users, invites, projects, project users, service
// accounts, project and admin API keys, audit logs (the spec's schemas of the same names).

const limit = queryInteger(z.number().int().min(1).max(100)).default(20)

/** `x[]=a&x[]=b` arrives as an array, a single `x=a` as a string. */
const stringList = z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(z.string()))

const queryBoolean = z.enum(['true', 'false']).transform((v) => v === 'true')

export const OrgListQuery = z.strictObject({ after: z.string().optional(), limit })
export type OrgListQuery = z.output<typeof OrgListQuery>

export const UserListQuery = OrgListQuery.extend({ emails: stringList.optional() })

export const UserRoleUpdateParams = z.strictObject({ role: z.enum(['owner', 'reader']) })

export const InviteCreateParams = z.strictObject({
  // zod's includes('@') answered "string does not match the expected format includes"
  email: z
    .string()
    .trim()
    .max(320)
    .refine((v) => /^[^\s@]+@[^\s@]+$/.test(v), 'expected an email address, such as user@example.com.'),
  role: z.enum(['reader', 'owner']),
  projects: z
    .array(z.strictObject({ id: z.string(), role: z.enum(['member', 'owner']) }))
    .optional(),
})
export type InviteCreateParams = z.output<typeof InviteCreateParams>

/** Plinth's extension: the invitee accepts with the one-time token given at creation. */
export const InviteAcceptParams = z.strictObject({
  token: z.string().min(1),
  name: z.string().trim().min(1).max(256).optional(),
})

export const ProjectCreateParams = z.strictObject({ name: z.string().trim().min(1).max(256) })
export const ProjectUpdateParams = ProjectCreateParams

export const ProjectListQuery = OrgListQuery.extend({ include_archived: queryBoolean.optional() })

export const ProjectUserCreateParams = z.strictObject({
  user_id: z.string(),
  role: z.enum(['owner', 'member']),
})

export const ProjectUserUpdateParams = z.strictObject({ role: z.enum(['owner', 'member']) })

export const ServiceAccountCreateParams = z.strictObject({
  name: z.string().trim().min(1).max(256),
})

export const AdminKeyCreateParams = z.strictObject({ name: z.string().trim().min(1).max(256) })

export const AdminKeyListQuery = OrgListQuery.extend({
  order: z.enum(['asc', 'desc']).default('asc'),
})

export const ModelPermissionsParams = z.strictObject({
  mode: z.enum(['allow_list', 'deny_list']),
  model_ids: z.array(z.string().min(1)),
})

const seconds = queryInteger(z.number().int())

export const AuditLogListQuery = z.strictObject({
  effective_at: z
    .strictObject({
      gt: seconds.optional(),
      gte: seconds.optional(),
      lt: seconds.optional(),
      lte: seconds.optional(),
    })
    .optional(),
  project_ids: stringList.optional(),
  event_types: stringList.optional(),
  actor_ids: stringList.optional(),
  actor_emails: stringList.optional(),
  resource_ids: stringList.optional(),
  limit,
  after: z.string().optional(),
  before: z.string().optional(),
})
export type AuditLogListQuery = z.output<typeof AuditLogListQuery>

/** Sort order of the certificate lists: newest first unless asked. */
export const CertificateListQuery = OrgListQuery.extend({
  order: z.enum(['asc', 'desc']).default('desc'),
})
export type CertificateListQuery = z.output<typeof CertificateListQuery>

export const CertificateGetQuery = z.strictObject({
  include: stringList.pipe(z.array(z.enum(['content']))).optional(),
})

/**
 * A certificate's PEM text at most: one X.509 certificate is a few KB. The bound keeps the PEM's
 * parse (regular expressions over the whole text, on the event loop) to well under a millisecond.
 */
const MAX_PEM_CHARS = 64 * 1024

/**
 * The SDK (and the spec's example) send the PEM as `certificate`; the spec's
 * UploadCertificateRequest names it `content`. Either is taken.
 */
export const CertificateUploadParams = z.strictObject({
  name: z.string().optional(),
  certificate: z.string().max(MAX_PEM_CHARS).optional(),
  content: z.string().max(MAX_PEM_CHARS).optional(),
})

/** The SDK makes `name` optional; without it nothing changes. */
export const CertificateModifyParams = z.strictObject({ name: z.string().optional() })

export const CertificateToggleParams = z.strictObject({
  certificate_ids: z.array(z.string().min(1)).min(1).max(10),
})
