import type { Context } from 'hono'
import type { AppEnv } from './env.js'

export type Method = 'GET' | 'POST' | 'DELETE'

/** Who may call a route: project keys, admin keys, or anyone (the dashboard's own login...). */
export type Scope = 'project' | 'admin' | 'public'

export type RouteDef = {
  method: Method
  /** The spec's path, without /v1, with {params}: `/chat/completions/{completion_id}`. */
  path: string
  /** The spec's operationId, or a Plinth name for extensions. */
  operationId: string
  scope: Scope
  /** True for routes Plinth adds that the OpenAI spec does not have. */
  extension?: boolean
  handler: (c: Context<AppEnv>) => Promise<Response> | Response
}

/** `/a/{b}` → `/a/:b` */
export function toHonoPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1')
}
