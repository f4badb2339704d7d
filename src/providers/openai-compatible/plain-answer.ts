import type { PassthroughAnswer, StreamPart, Usage } from '../provider.js'
import { chatCompletionParts, FINISH_REASONS, toUsage } from './map-chunk.js'
import type { WireChatChunk, WireUsage } from './wire.js'

/** A finish reason that is null or not one of OpenAI's: the parsed path maps those. */
const ODD_FINISH = new RegExp(`"finish_reason":(?!"(?:${[...FINISH_REASONS].join('|')})")`)

function count(text: string, needle: string): number {
  let n = 0
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) n++
  return n
}

/** Where the JSON object that opens at `from` closes (past its `}`), strings skipped; -1 if it does not. */
function objectEnd(text: string, from: number): number {
  let depth = 0
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 34 /* " */) {
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92 /* \ */) i++
    } else if (c === 123 /* { */ || c === 91 /* [ */) depth++
    else if (c === 125 /* } */ || c === 93 /* ] */) {
      if (--depth === 0) return i + 1
    }
  }
  return -1
}

/**
 * A non-streamed upstream chat answer already in OpenAI's form, renamed as text: the id and model
 * swapped, the usage object cut out for the domain's own (`serialize`), nothing parsed but the
 * usage. What `chatAnswer` would build from it is the same answer; this spares the parse of the
 * whole text and its serialisation again (a proxied JSON request's largest pieces of garbage).
 *
 * Taken only when the text is compact and plain: it starts `{"id":"...",`, names one model and
 * one usage with its token counts, carries no error, and each choice has its index, an assistant
 * role, content, refusal, logprobs and a known finish reason, as OpenAI writes them. Anything else
 * (whitespace, a server that leaves fields out, odd finish reasons) is undefined: the caller
 * parses. As in ChunkRewriter, the keys are found by text: inside a JSON string every quote is
 * escaped, so `"usage":{` can only be a key; a nested key of the same name makes a count differ,
 * and the answer is parsed instead.
 */
export function plainAnswer(text: string, identity: { id: string; model: string }): PassthroughAnswer | undefined {
  if (!text.startsWith('{"id":"')) return undefined
  const idEnd = text.indexOf('"', 7)
  if (idEnd < 0 || text.charCodeAt(idEnd + 1) !== 44 /* , */ || text.lastIndexOf('\\', idEnd) > 6) return undefined
  const modelAt = text.indexOf('"model":"')
  if (modelAt < 0 || text.indexOf('"model":', modelAt + 9) >= 0) return undefined
  const modelEnd = text.indexOf('"', modelAt + 9)
  if (modelEnd < 0 || text.lastIndexOf('\\', modelEnd) > modelAt) return undefined
  const usageAt = text.indexOf('"usage":{')
  if (usageAt < 0 || text.indexOf('"usage":', usageAt + 8) >= 0) return undefined
  const usageEnd = objectEnd(text, usageAt + 8)
  if (usageEnd < 0) return undefined
  const objectAt = text.indexOf('"object":"chat.completion"')
  // not `chat.completion.chunk`
  if (objectAt < 0 || text.charCodeAt(objectAt + 26) !== 44 /* , */) return undefined
  if (text.indexOf('"error"') >= 0 || text.indexOf('"created":') < 0) return undefined
  const choices = count(text, '"finish_reason":')
  if (
    choices === 0 ||
    count(text, '"index":') !== choices ||
    count(text, '"role":"assistant"') !== choices ||
    count(text, '"content":') !== choices ||
    count(text, '"refusal":') !== choices ||
    count(text, '"logprobs":') !== choices ||
    ODD_FINISH.test(text)
  ) {
    return undefined
  }
  let wire: WireUsage
  try {
    wire = JSON.parse(text.slice(usageAt + 8, usageEnd)) as WireUsage
  } catch {
    return undefined
  }
  if (typeof wire.prompt_tokens !== 'number' || typeof wire.completion_tokens !== 'number') return undefined
  const head = `{"id":${JSON.stringify(identity.id)}${text.slice(idEnd + 1, modelAt)}"model":${JSON.stringify(identity.model)}${text.slice(modelEnd + 1, usageAt)}"usage":`
  return new PlainAnswer(head, text.slice(usageEnd), toUsage(wire), text)
}

class PlainAnswer implements PassthroughAnswer {
  private parsed: Record<string, unknown> | undefined

  constructor(
    private readonly head: string,
    private readonly tail: string,
    readonly usage: Usage,
    private readonly source: string,
  ) {}

  /** The answer as an object, for callers that take one (a batch line, a run's turn): parsed once, on demand. */
  get body(): Record<string, unknown> {
    if (!this.parsed) {
      const body = JSON.parse(this.head + 'null' + this.tail) as Record<string, unknown>
      body.usage = undefined
      this.parsed = body
    }
    return this.parsed
  }

  parts(): StreamPart[] {
    return chatCompletionParts(JSON.parse(this.source) as WireChatChunk)
  }

  serialize(usage: object): string {
    return this.head + JSON.stringify(usage) + this.tail
  }
}
