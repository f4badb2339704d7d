import type { Context } from 'hono'
import { betaHeaderInvalid, betaHeaderMissing, invalidUrl } from '../errors.js'
import { requestHeader } from './node-request.js'

/** The two versions of the Assistants beta, chosen per request by `OpenAI-Beta`. */
export type AssistantsVersion = 'v1' | 'v2'

/**
 * The version a request to the Assistants API asks for: `OpenAI-Beta: assistants=v1` or
 * `assistants=v2`, possibly among other comma-separated betas. No `assistants=` entry is
 * OpenAI's G1; a version that does not exist is a 400 with the same code.
 */
export function assistantsVersion(c: Context): AssistantsVersion {
  const entries = (requestHeader(c, 'openai-beta') ?? '').split(',').map((e) => e.trim())
  const entry = entries.find((e) => e.toLowerCase().startsWith('assistants='))
  if (!entry) throw betaHeaderMissing()
  const version = entry.slice('assistants='.length).trim()
  if (version === 'v1' || version === 'v2') return version
  throw betaHeaderInvalid(entry)
}

/**
 * The six v1-only operations (assistant files, message files). v2 has no such routes, so a v2
 * request gets the 404 of an unknown route (B1), as it did at OpenAI while both versions ran;
 * G2's text for these routes ("The v1 Assistants API has been deprecated. See the migration
 * guide...", with no hint to use v2) confirms v2 never had them.
 */
export function requireAssistantsV1(c: Context): 'v1' {
  if (assistantsVersion(c) === 'v1') return 'v1'
  throw invalidUrl(c.req.method, new URL(c.req.url).pathname)
}
