import { invalidJson, invalidRequest } from '../errors.js'
import { Pacer } from '../pacing.js'

/**
 * No request has a reason to nest JSON this deep, and the code beneath (zod, JSON.stringify,
 * schema walkers) recurses: 100k nested arrays would otherwise end in a stack overflow, a 500.
 */
export const MAX_JSON_DEPTH = 128

/**
 * Values one body may hold, which bounds what validating it costs (zod takes about 0.3-1 µs a
 * value). OpenAI's largest legitimate bodies are an embeddings request of 300,000 token ids in
 * 2048 arrays, and a conversation filling a 128k context (at least 3 tokens a message, so at
 * most about 43k messages of 3 values). Numbers inside arrays (token ids) are counted apart,
 * being cheap to check (schemas/shared.ts TokenArray); everything else counts as a value.
 */
export const MAX_JSON_VALUES = 131_072
export const MAX_JSON_ARRAY_NUMBERS = 524_288

/**
 * Properties one object may have. OpenAI's largest are structured-output schemas (5000
 * properties over a whole schema); an object with 100k keys cost 30 ms each time it was walked.
 */
export const MAX_OBJECT_KEYS = 5000

export function tooManyKeys() {
  return invalidRequest(
    `The JSON body of your request has an object with more than ${MAX_OBJECT_KEYS} properties.`,
  )
}

export function nestedTooDeeply() {
  return invalidRequest(
    `The JSON body of your request is nested too deeply. Objects and arrays may be nested at most ${MAX_JSON_DEPTH} levels.`,
  )
}

export function tooManyJsonValues() {
  return invalidRequest(
    `The JSON body of your request holds too many values. A body may hold at most ${MAX_JSON_VALUES} values, not counting up to ${MAX_JSON_ARRAY_NUMBERS} numbers in arrays.`,
  )
}

type Frame =
  | { array: unknown[]; object?: undefined; key?: undefined; keys?: undefined }
  | { array?: undefined; object: Record<string, unknown>; key: string | undefined; keys: number }

const enum State {
  Value, // a value is due
  AfterValue, // `,` or the container's end is due
  Key, // a key (or `}` right after `{`) is due
  Colon,
  String, // inside a string (a key when `stringIsKey`)
  Number,
  Literal,
  Done,
}

const CONTROL = /[\u0000-\u001f]/
const UNPAIRED = /\p{Cs}/u
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }

/**
 * A JSON parser fed text as it arrives, so a body is parsed while it is read: each chunk costs
 * time in proportion to its size, and no single step parses megabytes at once (JSON.parse of a
 * 32 MB body took 35-450 ms, and 2 s for 5M empty objects). Depth and the number of values are
 * bounded as it goes (MAX_JSON_DEPTH, MAX_JSON_VALUES), so a hostile body is refused at the
 * point it crosses a bound. The result is what JSON.parse gives for the same text, `__proto__`
 * keys included (own properties, as JSON.parse makes them); malformed text is OpenAI's C1.
 */
export class JsonStreamParser {
  private state = State.Value
  private readonly stack: Frame[] = []
  private root: unknown = undefined
  private values = 0
  private numbers = 0
  /** The string being read, as a rope (a 30 MB string is never re-scanned). */
  private str = ''
  private stringIsKey = false
  /** An escape cut by a chunk's end. */
  private escape = ''
  /** The string being read holds an escape: only then can it hold an unpaired surrogate. */
  private escaped = false
  /** The number or literal being read. */
  private token = ''

  write(text: string): void {
    const n = text.length
    let i = 0
    while (i < n) {
      switch (this.state) {
        case State.String: {
          i = this.readString(text, i)
          break
        }
        case State.Number: {
          let j = i
          while (j < n && isNumberChar(text.charCodeAt(j))) j++
          this.token += text.slice(i, j)
          i = j
          if (j < n) this.endNumber()
          break
        }
        case State.Literal: {
          let j = i
          while (j < n && isLetter(text.charCodeAt(j))) j++
          this.token += text.slice(i, j)
          if (this.token.length > 5) throw invalidJson()
          i = j
          if (j < n) this.endLiteral()
          break
        }
        case State.Done: {
          if (!isSpace(text.charCodeAt(i))) throw invalidJson()
          i++
          break
        }
        default:
          i = this.structural(text, i)
      }
    }
  }

  /** Values parsed so far (containers included). */
  get valueCount(): number {
    return this.values + this.numbers
  }

  /** The parsed value, once all the text was written. */
  end(): unknown {
    if (this.state === State.Number) this.endNumber()
    else if (this.state === State.Literal) this.endLiteral()
    if (this.state !== State.Done) throw invalidJson()
    return this.root
  }

  private structural(text: string, i: number): number {
    const code = text.charCodeAt(i)
    if (isSpace(code)) return i + 1
    switch (this.state) {
      case State.Value:
        if (code === 0x22) {
          this.state = State.String
          this.stringIsKey = false
          this.str = ''
          return i + 1
        }
        if (code === 0x7b) return this.open({ object: {}, key: undefined, keys: 0 }, State.Key), i + 1
        if (code === 0x5b) return this.open({ array: [] }, State.Value), i + 1
        if (code === 0x5d) {
          // `[]`: an array closed before its first value
          const top = this.stack[this.stack.length - 1]
          if (top?.array && top.array.length === 0) return this.close(), i + 1
          throw invalidJson()
        }
        if (code === 0x2d || (code >= 0x30 && code <= 0x39)) {
          const end = this.quickInteger(text, i)
          if (end > 0) return end
          this.state = State.Number
          this.token = ''
          return i
        }
        if (code === 0x74 || code === 0x66 || code === 0x6e) {
          this.state = State.Literal
          this.token = ''
          return i
        }
        throw invalidJson()
      case State.AfterValue: {
        const top = this.stack[this.stack.length - 1]
        if (code === 0x2c) {
          this.state = top.array ? State.Value : State.Key
          if (top.object) top.key = undefined
          this.afterComma = true
          return i + 1
        }
        if ((code === 0x5d && top.array) || (code === 0x7d && top.object)) return this.close(), i + 1
        throw invalidJson()
      }
      case State.Key:
        if (code === 0x22) {
          this.state = State.String
          this.stringIsKey = true
          this.str = ''
          this.afterComma = false
          return i + 1
        }
        // `{}`: an object closed before its first key (not after a comma)
        if (code === 0x7d && !this.afterComma) return this.close(), i + 1
        throw invalidJson()
      case State.Colon:
        if (code === 0x3a) {
          this.state = State.Value
          return i + 1
        }
        throw invalidJson()
    }
    throw invalidJson()
  }

  private afterComma = false

  /**
   * A short integer wholly inside this chunk (a token id), read without building its text: the
   * index after it, or 0 for anything else (a fraction, an exponent, a number cut by the chunk's
   * end, a leading zero), which takes the general path.
   */
  private quickInteger(text: string, i: number): number {
    let j = i
    const negative = text.charCodeAt(j) === 0x2d
    if (negative) j++
    const first = j
    let value = 0
    while (j < text.length && j - first < 15) {
      const digit = text.charCodeAt(j) - 0x30
      if (digit < 0 || digit > 9) break
      value = value * 10 + digit
      j++
    }
    const digits = j - first
    if (digits === 0 || j >= text.length || (digits > 1 && text.charCodeAt(first) === 0x30)) return 0
    if (isNumberChar(text.charCodeAt(j))) return 0
    this.value(negative ? -value : value)
    return j
  }

  private open(frame: Frame, next: State) {
    if (this.stack.length >= MAX_JSON_DEPTH) throw nestedTooDeeply()
    this.stack.push(frame)
    this.afterComma = false
    this.state = next
  }

  private close() {
    const frame = this.stack.pop()!
    this.value(frame.array ?? frame.object)
  }

  /** A complete value: into its container, or the root. */
  private value(v: unknown) {
    const top = this.stack[this.stack.length - 1]
    if (typeof v === 'number' && top?.array) {
      if (++this.numbers > MAX_JSON_ARRAY_NUMBERS) throw tooManyJsonValues()
    } else if (++this.values > MAX_JSON_VALUES) throw tooManyJsonValues()
    if (!top) {
      this.root = v
      this.state = State.Done
      return
    }
    if (top.array) top.array.push(v)
    else {
      const key = top.key!
      if (key === '__proto__') Object.defineProperty(top.object, key, { value: v, writable: true, enumerable: true, configurable: true })
      else top.object[key] = v
    }
    this.state = State.AfterValue
  }

  /**
   * Reads a string's characters in this chunk. The chunk's part of it is decoded in one step
   * (a slice, or JSON.parse of that part when it holds escapes) and appended to a rope, so a
   * string of any length costs time in proportion to its size, chunk by chunk.
   */
  private readString(text: string, i: number): number {
    const n = text.length
    while (this.escape && i < n) {
      // finish an escape cut by the last chunk's end, a character at a time
      this.escape += text[i++]
      if (this.escape.length === (this.escape[1] === 'u' ? 6 : 2)) {
        this.str += decodeEscape(this.escape)
        this.escape = ''
        this.escaped = true
      }
    }
    if (this.escape) return i
    const start = i
    // the closing quote: the first one not escaped (an even run of backslashes before it)
    let close = text.indexOf('"', start)
    while (close >= 0) {
      let k = close - 1
      while (k >= start && text.charCodeAt(k) === 0x5c) k--
      if ((close - 1 - k) % 2 === 0) break
      close = text.indexOf('"', close + 1)
    }
    let end = close >= 0 ? close : n
    if (close < 0) {
      // an escape cut by the chunk's end waits for the rest
      const last = text.lastIndexOf('\\', n - 1)
      if (last >= start && last >= n - 6) {
        let k = last - 1
        while (k >= start && text.charCodeAt(k) === 0x5c) k--
        const opens = (last - k) % 2 === 1
        if (opens && last + (text.charCodeAt(last + 1) === 0x75 ? 6 : 2) > n) {
          this.escape = text.slice(last)
          end = last
        }
      }
    }
    if (end > start) {
      const part = text.slice(start, end)
      if (part.indexOf('\\') >= 0) {
        this.str += decodeRaw(part)
        this.escaped = true
      }
      else if (CONTROL.test(part)) throw invalidJson()
      else this.str += part
    }
    if (close < 0) return n
    const value = this.str
    this.str = ''
    // `"\ud800"` parses, but is no Unicode text: stored, it turns into U+FFFD on the way out, and
    // strict parsers (an upstream's among them) refuse it
    if (this.escaped && UNPAIRED.test(value)) throw invalidJson()
    this.escaped = false
    if (this.stringIsKey) {
      const top = this.stack[this.stack.length - 1]
      if (++top.keys! > MAX_OBJECT_KEYS) throw tooManyKeys()
      top.key = value
      this.state = State.Colon
    } else this.value(value)
    return close + 1
  }

  private endNumber() {
    if (!NUMBER.test(this.token)) throw invalidJson()
    this.value(Number(this.token))
  }

  private endLiteral() {
    const t = this.token
    if (t === 'true') this.value(true)
    else if (t === 'false') this.value(false)
    else if (t === 'null') this.value(null)
    else throw invalidJson()
  }
}

/** A part of a string with escapes, checked and decoded by the native parser. */
function decodeRaw(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string
  } catch {
    throw invalidJson()
  }
}

function decodeEscape(escape: string): string {
  if (escape[1] === 'u') {
    if (!/^\\u[0-9a-fA-F]{4}$/.test(escape)) throw invalidJson()
    return String.fromCharCode(parseInt(escape.slice(2), 16))
  }
  const out = ESCAPES[escape[1]]
  if (out === undefined) throw invalidJson()
  return out
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09
}

function isNumberChar(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || code === 0x2d || code === 0x2b || code === 0x2e || code === 0x65 || code === 0x45
}

function isLetter(code: number): boolean {
  return code >= 0x61 && code <= 0x7a
}

/** Slice of a complete text parsed per turn of the event loop (parseJsonPaced). */
const SLICE_CHARS = 256 * 1024

/**
 * A complete JSON text (a batch line) parsed in slices that let other work run between them.
 * Short texts take JSON.parse, with the same bounds checked by the parser's rules.
 */
export async function parseJsonPaced(text: string, signal?: AbortSignal): Promise<unknown> {
  const parser = new JsonStreamParser()
  const pacer = new Pacer()
  for (let i = 0; i < text.length; i += SLICE_CHARS) {
    parser.write(text.slice(i, i + SLICE_CHARS))
    await pacer.pace(signal)
  }
  return parser.end()
}
