import type { IncomingMessage } from 'node:http'
import type { Context } from 'hono'
import type { z } from 'zod'
import { ApiError, bodyTooLarge, invalidJson, invalidRequest } from '../errors.js'
import { nodeBindings, requestHeader, webBodyChunks } from './node-request.js'
import { parseJsonText, utf8Text } from '../schemas/json-text.js'
import { validate, type ValidationStyle } from '../schemas/validation.js'

/** Reads at most `limit` bytes of the request body; past it, 413 with OpenAI's F4 message. */
export async function readBodyText(c: Context, limit: number): Promise<string> {
  const node = nodeBindings(c)
  if (node) return readIncoming(node.incoming, limit)
  const declared = Number(requestHeader(c, 'content-length') ?? NaN)
  if (declared > limit) throw bodyTooLarge(limit, declared)
  const chunks: Uint8Array[] = []
  let read = 0
  try {
    for await (const chunk of webBodyChunks(c)) {
      read += chunk.byteLength
      if (read > limit) throw bodyTooLarge(limit, read)
      chunks.push(chunk)
    }
  } catch (error) {
    throw error instanceof ApiError ? error : bodyUnreadable()
  }
  return bodyText(Buffer.concat(chunks))
}

/** A JSON body is UTF-8 (RFC 8259): other bytes are OpenAI's C1, never U+FFFD in a stored value. */
function bodyText(bytes: Buffer): string {
  const text = utf8Text(bytes)
  if (text === undefined) throw invalidJson()
  return text
}

/**
 * A body that broke off (the client went away, or sent a malformed chunk) is the client's
 * failure: a 400 if anyone is still there to read it, never a 500 logged as the server's.
 */
function bodyUnreadable() {
  return invalidRequest('Your request body could not be read to its end.')
}

/**
 * Collects a Node request body: 413 at once when Content-Length declares too much. Past the
 * limit it rejects but keeps draining (without keeping) the rest, so the client still receives
 * the 413 instead of a reset connection.
 */
export function readIncoming(incoming: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(incoming.headers['content-length'] ?? NaN)
  if (declared > limit) return Promise.reject(bodyTooLarge(limit, declared))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let read = 0
    const onData = (chunk: Buffer) => {
      read += chunk.length
      if (read > limit) {
        cleanup()
        incoming.on('data', () => {})
        reject(bodyTooLarge(limit, read))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      try {
        resolve(bodyText(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)))
      } catch (error) {
        reject(error)
      }
    }
    const onError = () => {
      cleanup()
      reject(bodyUnreadable())
    }
    const cleanup = () => {
      incoming.off('data', onData)
      incoming.off('end', onEnd)
      incoming.off('error', onError)
    }
    incoming.on('data', onData)
    incoming.on('end', onEnd)
    incoming.on('error', onError)
  })
}

/** Parses and validates a JSON body with a wire schema; every failure is an OpenAI 4xx. */
export async function readJson<S extends z.ZodType>(
  c: Context,
  schema: S,
  limit: number,
  style: ValidationStyle = {},
): Promise<z.output<S>> {
  return parseJsonBody(await readBodyText(c, limit), schema, style)
}

/** JSON text → validated params; every failure is an OpenAI 4xx. */
export function parseJsonBody<S extends z.ZodType>(text: string, schema: S, style: ValidationStyle = {}): z.output<S> {
  const parsed = parseJsonText(text)
  if (!parsed) throw invalidJson()
  checkNesting(text)
  return validate(schema, parsed.value, style)
}

/**
 * No request has a reason to nest JSON this deep, and the code beneath (JSON.stringify, schema
 * walkers) recurses: a body of 100k nested arrays would otherwise end in a stack overflow, a 500.
 */
export const MAX_JSON_DEPTH = 128

function checkNesting(text: string) {
  if (text.length < MAX_JSON_DEPTH * 2) return
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    if (inString) {
      if (ch === 0x5c) i++ // backslash: skip the escaped character
      else if (ch === 0x22) inString = false
    } else if (ch === 0x22) inString = true
    else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) {
        throw invalidRequest(
          `The JSON body of your request is nested too deeply. Objects and arrays may be nested at most ${MAX_JSON_DEPTH} levels.`,
        )
      }
    } else if (ch === 0x7d || ch === 0x5d) depth--
  }
}

export { validate }

/**
 * Query string → object: repeated keys become arrays, `a[b]=c` becomes { a: { b: c } }
 * (OpenAI's `metadata[key]=value` filters), `x[]=1&x[]=2` an array.
 */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const url = new URL(c.req.url)
  const out: Record<string, any> = {}
  for (const [key, value] of url.searchParams) {
    const nested = /^([^[\]]+)\[([^[\]]*)\]$/.exec(key)
    if (nested && nested[2] === '') (out[nested[1]] ??= []).push(value)
    else if (nested) (out[nested[1]] ??= {})[nested[2]] = value
    else if (key in out) out[key] = [].concat(out[key], value as any)
    else out[key] = value
  }
  return validate(schema, out, { location: 'query' })
}
