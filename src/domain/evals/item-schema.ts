import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { Ajv2019 } from 'ajv/dist/2019.js'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { evalBadItem, evalBadItemSchema } from '../../errors.js'
import { Pacer } from '../../pacing.js'
import { userPattern } from '../../regexp-guard.js'
import type { DataItem } from './items.js'

/**
 * Ajv as a checker of a user's schema: unknown keywords and formats are annotations (as JSON
 * Schema says, and as Python's jsonschema does by default: formats are not asserted), the first
 * error is enough, nothing is fetched (a remote $ref does not resolve). The schema is not checked
 * against the meta-schema (compiling that is 50-100 ms in one turn of the loop); Ajv still
 * refuses what it cannot compile: an unknown type, a keyword's value of the wrong kind.
 */
// patterns through userPattern: the backtracking limit holds for them (regexp-guard.ts)
const regExp = Object.assign((pattern: string, flags: string) => userPattern(pattern, flags), { code: 'userPattern' })
const OPTIONS = { strict: false, validateFormats: false, allErrors: false, logger: false, validateSchema: false, code: { regExp } } as const

/** One Ajv per draft for the process: each compiles a schema in a few ms, and forgets it after. */
let draft07: Ajv | undefined
let draft2019: Ajv2019 | undefined
let draft2020: Ajv2020 | undefined

/** The draft a schema's `$schema` names; 2020-12 without one (the latest, as jsonschema's default). */
function checker(schema: Record<string, unknown>): { ajv: Ajv; schema: Record<string, unknown> } {
  const named = typeof schema.$schema === 'string' ? schema.$schema : ''
  // Ajv's instances know their own meta-schema's URI only; the draft is what picks the instance
  const { $schema: _ignored, ...rest } = schema
  // draft-04 and 06 read as 07 for what items use
  if (/draft-0[467]\b/.test(named)) return { ajv: (draft07 ??= new Ajv(OPTIONS)), schema: rest }
  if (named.includes('2019-09')) return { ajv: (draft2019 ??= new Ajv2019(OPTIONS)), schema: rest }
  return { ajv: (draft2020 ??= new Ajv2020(OPTIONS)), schema: rest }
}

/**
 * The eval's `item_schema` (a custom data source config), compiled once for a run. A schema that
 * Ajv cannot compile fails the run naming why (an eval keeps what it was given, as OpenAI echoes
 * it).
 */
export function compileItemSchema(itemSchema: unknown): ValidateFunction {
  if (itemSchema === true || itemSchema === undefined) return alwaysValid
  const { ajv, schema } = checker(itemSchema as Record<string, unknown>)
  try {
    return ajv.compile(schema)
  } catch (error) {
    throw evalBadItemSchema(error instanceof Error ? error.message : String(error))
  } finally {
    // the compiled function stays usable; the instance keeps nothing (nor a $id for the next run)
    ajv.removeSchema(schema)
  }
}

/** An eval's data_source_config as kept (objects.ts): a custom one's item_schema is `schema.properties.item`. */
export type StoredConfig = { type: string; schema?: { properties?: { item?: unknown } } }

const alwaysValid = Object.assign(() => true, { errors: null }) as unknown as ValidateFunction

/**
 * Checks every item before anything is sampled: the first item that does not match is a 400
 * naming its index and what is wrong (`param` names where it is in the request: inline items
 * are checked when the run is created), and no model call is made or billed. Items are
 * checked in slices of the loop's turn (pacing.ts), so 10,000 items do not hold the loop.
 */
export async function checkItems(
  validate: ValidateFunction,
  items: DataItem[],
  signal?: AbortSignal,
  param?: (index: number) => string,
): Promise<void> {
  const pacer = new Pacer()
  for (let index = 0; index < items.length; index++) {
    await pacer.pace(signal)
    const data = items[index]
    if (!validate(data.item)) {
      const which = data.at ? `${index} (line ${data.at.line} of file ${data.at.fileId})` : String(index)
      throw evalBadItem(which, describe(validate.errors?.[0]), param?.(index))
    }
  }
}

/** Ajv's first error as a sentence's end: `/age must be integer`, `the item must have required property 'name'`. */
function describe(error: ErrorObject | undefined): string {
  if (!error) return 'the item is not valid'
  const where = error.instancePath ? error.instancePath : 'the item'
  const extra = error.keyword === 'additionalProperties' ? ` '${String((error.params as { additionalProperty?: string }).additionalProperty)}'` : ''
  return `${where} ${error.message ?? 'is not valid'}${extra}`
}
