import OpenAI, { toFile } from 'openai'
import { PROJECT_KEY, type TestApp } from './test-context.js'

/**
 * An SDK client that speaks the v1 Assistants beta. The SDK sets `OpenAI-Beta: assistants=v2`
 * on every request, over `defaultHeaders`; this fetch rewrites it on the way out, before the
 * validating fetch picks the spec version from the same header.
 */
export function v1Client(t: TestApp, key = PROJECT_KEY): OpenAI {
  const fetchV1 = ((input: RequestInfo | URL, init: RequestInit = {}) => {
    const headers = new Headers(init.headers)
    headers.set('OpenAI-Beta', 'assistants=v1')
    return t.fetch(input, { ...init, headers })
  }) as typeof fetch
  return t.client(key, { fetch: fetchV1 })
}

/** A raw request to the app, JSON in and out, with exactly the headers given. */
export async function rawJson(
  t: TestApp,
  method: string,
  path: string,
  options: { beta?: string | null; body?: unknown; key?: string } = {},
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { authorization: `Bearer ${options.key ?? PROJECT_KEY}` }
  if (options.beta !== null) headers['openai-beta'] = options.beta ?? 'assistants=v2'
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  const res = await t.fetch(`http://plinth.test/v1${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  })
  return { status: res.status, body: await res.json() }
}

/** A file of the project, for tool resources, attachments and image parts. */
export async function uploadFile(client: OpenAI, name = 'notes.txt', purpose = 'assistants') {
  return client.files.create({
    file: await toFile(Buffer.from(`contents of ${name}`), name),
    purpose: purpose as 'assistants',
  })
}

/** OpenAI's metadata limits: 17 pairs, a 65-char key, a 513-char value (G11-G13). */
export const METADATA_CASES = [
  {
    metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])),
    error: {
      message:
        "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got an object with 17 properties instead.",
      type: 'invalid_request_error',
      param: 'metadata',
      code: 'object_above_max_properties',
    },
  },
  {
    metadata: { ['k'.repeat(65)]: 'v' },
    error: {
      message: `Invalid property name in 'metadata': '${'k'.repeat(65)}' is too long. Expected a string with maximum length 64, but got a string with length 65 instead.`,
      type: 'invalid_request_error',
      param: `metadata.${'k'.repeat(65)}`,
    },
  },
  {
    metadata: { note: 'x'.repeat(513) },
    error: {
      message:
        "Invalid 'metadata.note': string too long. Expected a string with maximum length 512, but got a string with length 513 instead.",
      type: 'invalid_request_error',
      param: 'metadata.note',
      code: 'string_above_max_length',
    },
  },
] as const
