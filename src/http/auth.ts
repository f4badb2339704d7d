import { noteCaller, recordOf } from '../request-context.js'
import { tracing } from '../tracing/tracing.js'
import type { MiddlewareHandler } from 'hono'
import {
  missingApiKey,
  mismatchedOrganization,
  mismatchedProject,
  noSuchOrganization,
  insufficientPermissions,
  permissionDenied,
} from '../errors.js'
import { withRequest, type Principal } from '../principal.js'
import type { AppEnv } from './env.js'
import { checkPermissions, type RouteAccess } from './permissions.js'
import { nodeBindings, requestHeader } from './node-request.js'
import type { Scope } from './routes.js'
import { scopeName } from '../schemas/key-permissions.js'
import { checkClientCertificate } from './client-certificate.js'

export type Authenticate = (secret: string) => Promise<Principal>

/**
 * The key from `Bearer KEY`, or from Basic auth with a blank user name and the key as password,
 * which OpenAI's own "no API key" message (A1) offers to browser users.
 */
export function credentialOf(header: string | undefined): string | undefined {
  if (!header) return undefined
  const bearer = /^\s*Bearer\s+(\S+)\s*$/i.exec(header)
  if (bearer) return bearer[1]
  const basic = /^\s*Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)
  if (!basic) return undefined
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  const password = colon >= 0 ? decoded.slice(colon + 1) : ''
  return password || undefined
}

/** The request's key → its Principal; OpenAI's 401 (A1) when there is none. */
export async function authenticateRequest(authorization: string | undefined, authenticate: Authenticate): Promise<Principal> {
  const secret = credentialOf(authorization)
  if (!secret) throw missingApiKey()
  return tracing ? tracing.span('plinth.auth', () => authenticate(secret)) : authenticate(secret)
}

/**
 * authenticateRequest without a promise when the key's principal is cached (`cached`) and nothing
 * traces the request: the inference fast path's common case, where each await is a turn of the
 * microtask queue and two promises. A miss, a bad header or tracing take authenticateRequest.
 */
export function principalOf(
  authorization: string | undefined,
  authenticate: Authenticate,
  cached: (secret: string) => Principal | undefined,
): Principal | Promise<Principal> {
  if (!tracing) {
    const secret = credentialOf(authorization)
    const hit = secret ? cached(secret) : undefined
    if (hit) return hit
  }
  return authenticateRequest(authorization, authenticate)
}

/**
 * The checks OpenAI makes once the key is known: OpenAI-Organization and OpenAI-Project headers
 * must match the key (A4, A5, A8: a project key's project); admin keys only on admin routes, project keys only on project
 * routes; then the key's permissions for the route (http/permissions.ts).
 */
export function checkAccess(
  principal: Principal,
  headers: { organization: string | undefined; project: string | undefined },
  scope: Scope,
  access?: RouteAccess,
) {
  const org = headers.organization
  if (org && org !== principal.orgId) {
    throw org.startsWith('org-') ? mismatchedOrganization() : noSuchOrganization(org)
  }
  // A8 compares the header with the key's own project. An admin key has none (organization
  // level): the header is not checked, as SDK 6's client of both keys sends OPENAI_PROJECT_ID
  // with the Administration API's calls too, and would otherwise fail every one of them.
  const project = headers.project
  if (project && principal.projectId !== null && project !== principal.projectId) throw mismatchedProject()
  if (scope === 'admin' && principal.kind !== 'admin') {
    // OpenAI answers a project key on the Administration API as any key without the scope: 401,
    // "Missing scopes: api.management.read" (or api.usage.read on usage and costs)
    if (access) throw insufficientPermissions([scopeName(access.resource, access.access)])
    throw permissionDenied(
      'This endpoint requires an admin API key (sk-admin-...). Project keys cannot call the Administration API.',
      'insufficient_permissions',
    )
  }
  if (scope === 'project' && principal.kind !== 'project') {
    throw permissionDenied(
      'Admin API keys can only be used with the Administration API (/v1/organization/...). Use a project API key (sk-proj-...) for this endpoint.',
      'insufficient_permissions',
    )
  }
  if (access) checkPermissions(principal, access)
}

/**
 * Hono middleware: authenticateRequest, then checkAccess (the principal is set first, so even a
 * refusal names the project). `certificateHeader` (server.clientCertificateHeader, lowercase): the
 * key's active client certificates are checked (http/client-certificate.ts); /metrics passes none.
 */
export function requireKey(scope: Scope, authenticate: Authenticate, access?: RouteAccess, certificateHeader?: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const record = recordOf(nodeBindings(c)?.incoming)
    const principal = withRequest(await authenticateRequest(requestHeader(c, 'authorization'), authenticate), record)
    noteCaller(record, principal.projectId, principal.keyId)
    c.set('principal', principal)
    // mutual TLS first, as the TLS handshake would come first
    if (certificateHeader) checkClientCertificate(principal, requestHeader(c, certificateHeader))
    checkAccess(principal, { organization: requestHeader(c, 'openai-organization'), project: requestHeader(c, 'openai-project') }, scope, access)
    await next()
  }
}
