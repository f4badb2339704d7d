import type { IncomingMessage } from 'node:http'
import type { Context } from 'hono'
import type { z } from 'zod'
import { bodyTooLarge } from '../errors.js'
import { nodeBindings, requestHeader, webBodyChunks } from './node-request.js'
import { StringDecoder } from 'node:string_decoder'
import { JsonStreamParser } from '../schemas/json-stream.js'
import { validate, type ValidationStyle } from '../schemas/validation.js'

/** A JSON body parsed as it arrived, with the number of values it holds. */
export type ParsedBody = { value: unknown; values: number }

/**
 * Reads a JSON body and parses it as it arrives (JsonStreamParser), so no step parses megabytes
 * at once: 413 past `limit` (checked first, as when the body was read whole), OpenAI's C1 on
 * malformed text, a 400 past the depth or value bounds.
 */
export async function readJsonBody(c: Context, limit: number): Promise<ParsedBody> {
  const node = nodeBindings(c)
  if (node) return readIncomingJson(node.incoming, limit)
  const declared = Number(requestHeader(c, 'content-length') ?? NaN)
  if (declared > limit) throw bodyTooLarge(limit, declared)
  const body = new BodyParser()
  let read = 0
  for await (const chunk of webBodyChunks(c)) {
    read += chunk.byteLength
    if (read > limit) throw bodyTooLarge(limit, read)
    body.write(chunk)
  }
  return body.end()
}

/**
 * The parser over UTF-8 bytes. A parse failure is kept until the body is read, so that a body
 * over the limit is still a 413 whatever it holds.
 */
class BodyParser {
  private readonly parser = new JsonStreamParser()
  private readonly decoder = new StringDecoder('utf8')
  private failure: unknown

  write(chunk: Uint8Array) {
    if (this.failure) return
    try {
      this.parser.write(this.decoder.write(chunk as Buffer))
    } catch (error) {
      this.failure = error
    }
  }

  end(): ParsedBody {
    if (this.failure) throw this.failure
    this.parser.write(this.decoder.end())
    return { value: this.parser.end(), values: this.parser.valueCount }
  }
}

/** readJsonBody on Node's request (the inference fast path). */
export function readIncomingJson(incoming: IncomingMessage, limit: number): Promise<ParsedBody> {
  const declared = Number(incoming.headers['content-length'] ?? NaN)
  if (declared > limit) return Promise.reject(bodyTooLarge(limit, declared))
  return new Promise((resolve, reject) => {
    const body = new BodyParser()
    let read = 0
    const onData = (chunk: Buffer) => {
      read += chunk.length
      if (read > limit) {
        cleanup()
        incoming.on('data', () => {})
        reject(bodyTooLarge(limit, read))
        return
      }
      body.write(chunk)
    }
    const onEnd = () => {
      cleanup()
      try {
        resolve(body.end())
      } catch (error) {
        reject(error)
      }
    }
    const onError = (error: Error) => {
      cleanup()
      reject(error)
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
  return validateBody(schema, await readJsonBody(c, limit), style)
}

/**
 * Bodies above this many values are validated stopping at the first fatal issue: zod otherwise
 * collects an issue for every bad item (300k of them took 400 ms). Smaller bodies keep the full
 * pass, in which an unknown parameter wins over every other issue, as at OpenAI.
 */
const FULL_VALIDATION_VALUES = 10_000

export function validateBody<S extends z.ZodType>(schema: S, body: ParsedBody, style: ValidationStyle = {}): z.output<S> {
  return validate(schema, body.value, body.values > FULL_VALIDATION_VALUES ? { ...style, abortEarly: true } : style)
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
