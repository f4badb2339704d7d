import { setImmediate as nextTurn } from 'node:timers/promises'

let turnStarted: number | undefined
const endTurn = () => (turnStarted = undefined)

/**
 * Milliseconds of paced work done in this turn of the event loop, by every paced loop together:
 * the clock starts with the first one to ask, and stops at the next setImmediate round. Sharing
 * it matters: the check phase runs every pending setImmediate back to back, so 8 batch lines each
 * taking their own 4 ms would hold the loop 32 ms before the next poll for I/O.
 */
export function turnElapsedMs(): number {
  const now = performance.now()
  if (turnStarted === undefined) {
    turnStarted = now
    setImmediate(endTurn)
  }
  return now - turnStarted
}

/**
 * No request may hold the event loop for more than 50 ms (docs/architecture.md, "The event
 * loop"). Long loops (tokenizing, echoing, batch lines, big answers) call `pace()` between units
 * of work: once this turn's paced work (turnElapsedMs) reaches `sliceMs`, it waits for a
 * setImmediate turn, so sockets, timers and other requests run in between. Awaiting a resolved
 * promise is not enough: microtasks all run before the loop takes the next event.
 */
export class Pacer {
  constructor(private readonly sliceMs = 4) {}

  /** True when this turn's slice is used up: the caller may cut its work at a convenient point. */
  due(): boolean {
    return turnElapsedMs() >= this.sliceMs
  }

  async pace(signal?: AbortSignal): Promise<void> {
    if (!this.due()) return
    await nextTurn()
    signal?.throwIfAborted()
  }
}

/** One turn of the event loop: lets pending I/O and timers run. */
export function yieldToLoop(): Promise<void> {
  return nextTurn()
}

/** Containers deeper than this are serialized whole: answers keep their large arrays above it. */
const MAX_DESCENT = 5
/** Primitive array items serialized per JSON.stringify call. */
const PRIMITIVES_PER_CALL = 4096
/** Size of the buffers the text is cut into. */
const BUFFER_CHARS = 64 * 1024

/**
 * JSON.stringify for answers of any size, in slices that let other requests run between them:
 * 128 choices of 16k tokens, or 16 with log probabilities, take 50-200 ms to serialize in one
 * call. Objects and arrays down to MAX_DESCENT levels are written item by item, deeper values
 * whole; the text comes back as UTF-8 buffers of about 64 KB, ready for the socket. The output is
 * the same text as JSON.stringify(value).
 */
export async function pacedJson(value: unknown): Promise<Buffer[]> {
  const buffers: Buffer[] = []
  const pacer = new Pacer()
  let pending: string[] = []
  let pendingChars = 0
  const push = (text: string) => {
    pending.push(text)
    pendingChars += text.length
    if (pendingChars >= BUFFER_CHARS) flush()
  }
  const flush = () => {
    if (!pending.length) return
    buffers.push(Buffer.from(pending.join(''), 'utf8'))
    pending = []
    pendingChars = 0
  }

  async function write(v: unknown, depth: number): Promise<void> {
    if (v === null || typeof v !== 'object' || depth >= MAX_DESCENT || typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      push(JSON.stringify(v) ?? 'null')
      return
    }
    if (Array.isArray(v)) {
      push('[')
      for (let i = 0; i < v.length; ) {
        if (i) push(',')
        if (isPrimitive(v[i])) {
          // a run of numbers (an embedding) goes a few thousand at a time
          let end = i + 1
          while (end < v.length && end - i < PRIMITIVES_PER_CALL && isPrimitive(v[end])) end++
          push(JSON.stringify(v.slice(i, end)).slice(1, -1))
          i = end
        } else {
          await write(v[i], depth + 1)
          i++
        }
        await pacer.pace()
      }
      push(']')
      return
    }
    push('{')
    let first = true
    for (const key of Object.keys(v)) {
      const item = (v as Record<string, unknown>)[key]
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue
      push(first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`)
      first = false
      await write(item, depth + 1)
    }
    push('}')
  }

  await write(value, 0)
  flush()
  return buffers
}

/**
 * True when `value` is certainly small (at most `maxNodes` values and about `maxChars` of text):
 * one JSON.stringify is then cheaper than pacing, which a proxied answer's budget cannot pay.
 */
export function isSmallJson(value: unknown, maxNodes = 2000, maxChars = 256 * 1024): boolean {
  let nodes = 0
  let chars = 0
  const stack: unknown[] = [value]
  while (stack.length) {
    const v = stack.pop()
    if (++nodes > maxNodes) return false
    if (typeof v === 'string') chars += v.length
    else if (Array.isArray(v)) {
      if (v.length > maxNodes) return false
      for (const item of v) stack.push(item)
    } else if (v !== null && typeof v === 'object') {
      for (const key in v) {
        chars += key.length
        stack.push((v as Record<string, unknown>)[key])
      }
    } else chars += 8
    if (chars > maxChars) return false
  }
  return true
}

/**
 * Marks answers known to be small without a walk (knownSmallJson): a symbol property, which
 * JSON.stringify skips, rather than a WeakSet whose short-lived entries cost the GC.
 */
const KNOWN_SMALL = Symbol('plinth.knownSmallJson')

/**
 * Marks an answer that is certainly small (isSmallJson), because it was made from a small text
 * (an upstream's answer of a few KB, parsed in one step): answerBody then skips the walk.
 */
export function knownSmallJson<T extends object>(value: T): T {
  ;(value as { [KNOWN_SMALL]?: true })[KNOWN_SMALL] = true
  return value
}

/**
 * An answer that is already its JSON text (an upstream's own answer, renamed as text: see
 * providers/openai-compatible/plain-answer.ts), sent as it is. `toJSON` keeps it right wherever
 * it is serialised as part of something else; `value()` is it as an object.
 */
export class JsonText {
  constructor(readonly text: string) {}

  value(): unknown {
    return JSON.parse(this.text)
  }

  toJSON(): unknown {
    return this.value()
  }
}

/**
 * The JSON text of an answer that is small (or already text), in one call; undefined for a large
 * one, which answerBody serialises in paced slices. A string lets Node put the response's head and
 * body in one write.
 */
export function answerText(value: unknown): string | undefined {
  if (value instanceof JsonText) return value.text
  const small = (typeof value === 'object' && value !== null && (value as { [KNOWN_SMALL]?: true })[KNOWN_SMALL] === true) || isSmallJson(value)
  return small ? JSON.stringify(value) : undefined
}

/** The JSON text of an answer as buffers: one call when small, paced slices when not. */
export async function answerBody(value: unknown): Promise<Buffer[]> {
  if (value instanceof JsonText) return [Buffer.from(value.text, 'utf8')]
  const small = (typeof value === 'object' && value !== null && (value as { [KNOWN_SMALL]?: true })[KNOWN_SMALL] === true) || isSmallJson(value)
  return small ? [Buffer.from(JSON.stringify(value), 'utf8')] : pacedJson(value)
}

function isPrimitive(v: unknown): boolean {
  return v === null || (typeof v !== 'object' && typeof v !== 'function')
}
