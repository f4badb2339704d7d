import type { Context } from 'hono'
import type { z } from 'zod'
import type { Versioned } from '../domain/assistants/versions.js'
import { readJson } from '../http/body.js'
import { assistantsVersion } from '../http/openai-beta.js'

/**
 * The body of an Assistants API request, read with the schema of the version `OpenAI-Beta` asks
 * for (a v2 field in a v1 request is an unknown parameter, and the other way round).
 */
export async function readVersioned<V1 extends z.ZodType, V2 extends z.ZodType>(
  c: Context,
  limit: number,
  schemas: { v1: V1; v2: V2 },
): Promise<Versioned<z.output<V1>, z.output<V2>>> {
  const version = assistantsVersion(c)
  if (version === 'v1') return { version, params: await readJson(c, schemas.v1, limit) }
  return { version, params: await readJson(c, schemas.v2, limit) }
}
