import { isUtf8 } from 'node:buffer'

// JSON as requests carry it: UTF-8 bytes (RFC 8259) holding text with no unpaired surrogate.
// Here, with the schemas, because request bodies (http/) and batch lines (domain/) read it alike.

/**
 * The text of UTF-8 bytes, or undefined when they are not UTF-8. Decoding with replacement
 * would store U+FFFD where the client sent something else, and answer as if all were well.
 */
export function utf8Text(bytes: Uint8Array): string | undefined {
  if (!isUtf8(bytes)) return undefined
  if (Buffer.isBuffer(bytes)) return bytes.toString('utf8')
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
}

/** A `\uD800`-`\uDFFF` escape: the only way an unpaired surrogate gets into parsed JSON text. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/
const UNPAIRED = /\p{Cs}/u

/**
 * Parses JSON text; undefined when it is not JSON or holds an unpaired surrogate escape
 * (`"\ud800"`). JSON.parse takes those, but they are no Unicode text: stored, they turn into
 * U+FFFD on the way out, and strict parsers (an upstream's among them) refuse the body.
 */
export function parseJsonText(text: string): { value: unknown } | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  // the scans are cheap (indexOf first: a tenth of the regex's cost on a body with no escape);
  // the walk only runs for a body with a surrogate escape
  const escapes = text.includes('\\u') && SURROGATE_ESCAPE.test(text)
  if (escapes && hasUnpairedSurrogate(value)) return undefined
  return { value }
}

/** Every string and key of a parsed value, walked without recursion (a body may nest deeply). */
function hasUnpairedSurrogate(root: unknown): boolean {
  const stack: unknown[] = [root]
  while (stack.length) {
    const value = stack.pop()
    if (typeof value === 'string') {
      if (UNPAIRED.test(value)) return true
    } else if (Array.isArray(value)) {
      for (const item of value) stack.push(item)
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (UNPAIRED.test(key)) return true
        stack.push(item)
      }
    }
  }
  return false
}

/** Text a client sent that is not clean: a decoding's replacement or an unpaired surrogate. */
export function hasReplacedOrUnpaired(text: string): boolean {
  return text.includes('\uFFFD') || UNPAIRED.test(text)
}
