import type OpenAI from 'openai'
import type { KeyPermissions } from '../../src/principal.js'
import { ADMIN_KEY, type TestApp } from './test-context.js'

/** The official SDK's admin resources (`client.admin.organization`) with an admin key. */
export function adminClient(t: TestApp, key = ADMIN_KEY): OpenAI {
  return t.client(key, { adminAPIKey: key })
}

/** A new project key (as the CLI makes them), with the given permissions. */
export async function newProjectKey(
  t: TestApp,
  projectId: string,
  permissions?: KeyPermissions,
): Promise<string> {
  const created = await t.ctx.services.keys.create({
    orgId: t.ctx.organization.id,
    projectId,
    name: 'test key',
    permissions,
  })
  return created.secret
}

export type RawAnswer = { status: number; body: any; headers: Headers }

/** One request through the validating fetch, for what the SDK has no method for. */
export async function raw(
  t: TestApp,
  method: string,
  path: string,
  key?: string,
  body?: unknown,
): Promise<RawAnswer> {
  const headers: Record<string, string> = {}
  if (key) headers.authorization = `Bearer ${key}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const response = await t.fetch(`http://plinth.test/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {}
  return { status: response.status, body: parsed, headers: response.headers }
}

export const hi = { model: 'test-echo', messages: [{ role: 'user' as const, content: 'hi' }] }
