import { insufficientPermissions } from '../errors.js'
import type { Principal } from '../principal.js'
import { scopeName } from '../schemas/key-permissions.js'
import type { Method } from './routes.js'

/** What a route touches and how: GET reads, every other method writes. */
export type RouteAccess = { resource: string; access: 'read' | 'write' }

// The first path segment names the resource. Segments not listed here are their own resource,
// which no restricted key holds: a new route is closed to restricted keys until it is mapped.
const PROJECT_RESOURCES: Record<string, string> = {
  models: 'models',
  chat: 'chat',
  completions: 'chat',
  responses: 'responses',
  // conversations hold the Responses API's items: its scope covers them
  conversations: 'responses',
  files: 'files',
  uploads: 'files',
  batches: 'batches',
  assistants: 'assistants',
  threads: 'assistants',
  vector_stores: 'vector_stores',
  fine_tuning: 'fine_tuning',
  audio: 'audio',
  images: 'images',
  embeddings: 'embeddings',
  moderations: 'moderations',
  evals: 'evals',
  realtime: 'realtime',
  // the code interpreter's containers: the Responses API's tool state
  containers: 'responses',
}

const ADMIN_RESOURCES: Record<string, string> = {
  audit_logs: 'audit_logs',
  usage: 'usage',
  costs: 'usage',
}

export function routeAccess(route: { method: Method; path: string }): RouteAccess {
  const [first, second] = route.path.split('/').filter(Boolean)
  const access = route.method === 'GET' ? 'read' : 'write'
  if (first === 'organization') return { resource: ADMIN_RESOURCES[second] ?? 'management', access }
  return { resource: PROJECT_RESOURCES[first] ?? first, access }
}

/**
 * Key permissions, after authentication: a read-only key only reads; a restricted key needs
 * read (GET) or write on the route's resource; an admin key acts with its user's role, and a
 * reader's only reads. A refusal is OpenAI's 401 naming the missing scope.
 */
export function checkPermissions(principal: Principal, route: RouteAccess) {
  const missing = () => insufficientPermissions([scopeName(route.resource, route.access)])
  if (principal.kind === 'admin') {
    if (route.access === 'write' && principal.role === 'reader') throw missing()
    return
  }
  const { mode, scopes } = principal.permissions
  if (mode === 'all') return
  if (mode === 'read_only') {
    if (route.access === 'write') throw missing()
    return
  }
  const granted = scopes?.[route.resource] ?? 'none'
  if (granted === 'write' || (granted === 'read' && route.access === 'read')) return
  throw missing()
}
