import type { IncomingMessage } from 'node:http'
import type { Context } from 'hono'
import type { z } from 'zod'
import { ApiError, bodyTooLarge, invalidJson, invalidRequest } from '../errors.js'
import { nodeBindings, requestHeader, webBodyChunks } from './node-request.js'
import { turnElapsedMs, yieldToLoop } from '../pacing.js'
import { isUtf8 } from 'node:buffer'
import { JsonStreamParser, MAX_JSON_DEPTH } from '../schemas/json-stream.js'
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
  try {
    for await (const chunk of webBodyChunks(c)) {
      read += chunk.byteLength
      if (read > limit) throw bodyTooLarge(limit, read)
      await body.write(chunk)
    }
  } catch (error) {
    throw error instanceof ApiError ? error : bodyUnreadable()
  }
  return body.end()
}

/**
 * A body that broke off (the client went away, or sent a malformed chunk) is the client's
 * failure: a 400 if anyone is still there to read it, never a 500 logged as the server's.
 */
function bodyUnreadable() {
  return invalidRequest('Your request body could not be read to its end.')
}

/** Text parsed between two looks at the clock. */
const PARSE_SLICE = 16 * 1024
/** Parsing time per turn of the event loop, past which the rest waits for the next turn. */
const PARSE_TURN_MS = 4

/**
 * Bodies up to this size are held as they arrive and parsed at the end with JSON.parse, which for
 * a request of a few hundred bytes costs a fifth of the streaming parser, and under load never
 * waits a turn for the pacing budget. JSON.parse of 16 KB is tens of µs, well inside one turn.
 * Larger bodies are parsed as they arrive.
 */
const SMALL_BODY = 16 * 1024

/**
 * The parser over UTF-8 bytes. A small body (SMALL_BODY) is parsed once whole; a larger one as
 * it arrives, a chunk in slices: when this turn's paced work reaches PARSE_TURN_MS (pacing.ts
 * turnElapsedMs), the rest waits for the next turn (and the caller pauses the socket meanwhile),
 * so dense bodies (numbers, many keys) cost other requests no more than that. A parse failure is
 * kept until the body is read, so that a body over the limit is still a 413 whatever it holds.
 */
class BodyParser {
  private readonly parser = new JsonStreamParser()
  /** A JSON body is UTF-8 (RFC 8259): other bytes are OpenAI's C1, never U+FFFD in a stored value. */
  private readonly decoder = new TextDecoder('utf-8', { fatal: true })
  private failure: unknown
  /** The chunks of a body still small enough to parse whole (undefined once it is not). */
  private held: Buffer[] | undefined = []
  private heldBytes = 0

  /** Undefined when the chunk was parsed (or held) at once; else a promise of its end. */
  write(chunk: Uint8Array): Promise<void> | undefined {
    if (this.failure) return undefined
    if (this.held) {
      if (this.heldBytes + chunk.length <= SMALL_BODY) {
        // web bodies (in-process) come as Uint8Arrays: a Buffer over the same bytes decodes as text
        this.held.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
        this.heldBytes += chunk.length
        return undefined
      }
      // too large to parse whole: what was held goes through the streaming parser first
      const held = this.held
      this.held = undefined
      for (const earlier of held) this.decodeAndParse(earlier)
      if (this.failure) return undefined
    }
    return this.decodeAndParse(chunk)
  }

  private decodeAndParse(chunk: Uint8Array): Promise<void> | undefined {
    let text: string
    try {
      text = this.decoder.decode(chunk, { stream: true })
    } catch {
      this.failure = invalidJson()
      return undefined
    }
    return this.parse(text)
  }

  private parse(text: string): Promise<void> | undefined {
    for (let at = 0; at < text.length; at += PARSE_SLICE) {
      // one socket read can deliver 32 chunks in one turn: the budget is the turn's, not the chunk's
      if (turnElapsedMs() >= PARSE_TURN_MS) return yieldToLoop().then(() => this.parse(text.slice(at)))
      try {
        this.parser.write(at === 0 && text.length <= PARSE_SLICE ? text : text.slice(at, at + PARSE_SLICE))
      } catch (error) {
        this.failure = error
        return undefined
      }
    }
    return undefined
  }

  end(): ParsedBody {
    if (this.held) {
      const whole = this.held.length === 1 ? this.held[0] : Buffer.concat(this.held, this.heldBytes)
      const parsed = parseSmall(whole)
      if (parsed) return parsed
      // whatever JSON.parse refused (or might judge otherwise) gets the streaming parser's
      // verdict, at once: a small body needs no pacing
      this.held = undefined
      let text = ''
      try {
        text = this.decoder.decode(whole, { stream: true })
      } catch {
        this.failure = invalidJson()
      }
      try {
        if (!this.failure) this.parser.write(text)
      } catch (error) {
        this.failure = error
      }
    }
    if (this.failure) throw this.failure
    let rest: string
    try {
      rest = this.decoder.decode()
    } catch {
      throw invalidJson()
    }
    this.parser.write(rest)
    return { value: this.parser.end(), values: this.parser.valueCount }
  }
}

/**
 * A small body by JSON.parse, when its verdict is certainly the streaming parser's: valid UTF-8,
 * no `\u` escape (JSON.parse lets a lone surrogate through), and fewer brackets than
 * MAX_JSON_DEPTH (so it cannot nest deeper). Its size bounds the rest: at most SMALL_BODY / 2
 * values (a value and a comma each), under MAX_OBJECT_KEYS keys and FULL_VALIDATION_VALUES. The
 * result is the same value as the streaming parser's. Undefined: let the streaming parser judge.
 */
function parseSmall(bytes: Buffer): ParsedBody | undefined {
  if (!isUtf8(bytes)) return undefined
  const text = bytes.toString('utf8')
  if (text.includes('\\u')) return undefined
  let brackets = 0
  for (let at = text.indexOf('{'); at >= 0 && brackets < MAX_JSON_DEPTH; at = text.indexOf('{', at + 1)) brackets++
  for (let at = text.indexOf('['); at >= 0 && brackets < MAX_JSON_DEPTH; at = text.indexOf('[', at + 1)) brackets++
  if (brackets >= MAX_JSON_DEPTH) return undefined
  try {
    return { value: JSON.parse(text), values: (text.length + 1) >> 1 }
  } catch {
    return undefined
  }
}

/** readJsonBody on Node's request (the inference fast path). */
export function readIncomingJson(incoming: IncomingMessage, limit: number): Promise<ParsedBody> {
  const declared = Number(incoming.headers['content-length'] ?? NaN)
  if (declared > limit) return Promise.reject(bodyTooLarge(limit, declared))
  return new Promise((resolve, reject) => {
    const body = new BodyParser()
    let read = 0
    let over = false
    let pending: Promise<void> | undefined
    const onData = (chunk: Buffer) => {
      read += chunk.length
      if (over) return
      if (read > limit) {
        // drained without keeping, so the client still receives the 413 instead of a reset
        over = true
        reject(bodyTooLarge(limit, read))
        return
      }
      // a chunk that waits for the next turn holds the socket until it is parsed
      const parsing = pending ? pending.then(() => body.write(chunk)) : body.write(chunk)
      if (parsing) {
        incoming.pause()
        pending = parsing.then(() => {
          pending = undefined
          incoming.resume()
        })
      }
    }
    const onEnd = () => {
      cleanup()
      if (over) return
      const finish = () => {
        try {
          resolve(body.end())
        } catch (error) {
          reject(error)
        }
      }
      // 'end' may come while the last chunk still waits for its turn
      if (pending) void pending.then(finish)
      else finish()
    }
    const onError = () => {
      cleanup()
      reject(bodyUnreadable())
    }
    const cleanup = () => {
      incoming.off('end', onEnd)
      incoming.off('error', onError)
      if (!over) incoming.off('data', onData)
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
