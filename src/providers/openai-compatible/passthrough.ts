import { StringDecoder } from 'node:string_decoder'
import type { PassthroughAnswer, PassthroughStream, StreamPart, Usage } from '../provider.js'
import { upstreamStreamError } from './errors.js'
import { ChatChunkReader, chatCompletionParts, CompletionChunkReader, FINISH_REASONS, toFinishReason, toUsage } from './map-chunk.js'
import { SseParser, type SseMessage } from './sse-parse.js'
import type { UpstreamExchange } from './transport.js'
import type { WireChatChoice, WireChatChunk } from './wire.js'

/** What every forwarded chunk must say instead of what the upstream said. */
export type ChunkIdentity = { id: string; model: string; object: 'chat.completion.chunk' | 'text_completion' }

/** A finish reason that is neither null nor one of OpenAI's (FINISH_REASONS). */
const UNKNOWN_FINISH = new RegExp(`"finish_reason":(?!null|"(?:${[...FINISH_REASONS].join('|')})")`)

/**
 * Rewrites upstream chunk texts into Plinth's. The common case is a string edit: a chunk that
 * starts with the upstream's id, names the upstream model once, carries no usage or error, and
 * has only known finish reasons gets the two names swapped. Anything else (another key order,
 * whitespace, usage, errors, odd finish reasons, missing fields) is parsed and rebuilt.
 *
 * The edits are sound on any JSON: inside a string value every quote is escaped, so `"model":"x"`
 * or `"usage":{` can only be the keys themselves. A false alarm costs a parse, never a wrong answer.
 */
export class ChunkRewriter {
  /** Whether the first chunk told the upstream's names (a flag: a slice of its text would keep the whole read alive). */
  private known = false
  private idPrefix = ''
  private modelText = ''
  private readonly newIdPrefix: string
  private readonly newModelText: string
  private dataIdPrefix = ''
  /** Where the model's key was in the first chunk, from its `{`. */
  private modelOffset = 0
  usage: Usage | undefined

  constructor(
    private readonly upstream: string,
    private readonly identity: ChunkIdentity,
  ) {
    this.newIdPrefix = `{"id":${JSON.stringify(identity.id)},`
    this.newModelText = `"model":${JSON.stringify(identity.model)}`
  }

  /**
   * Where the run of plain events starting at `from` ends (`from` when there is none): events
   * `data: {"id":"<upstream id>",...}` on one line, naming the upstream model, with no usage,
   * error or unknown finish reason. Such a run needs no parse: `bulk` swaps the names in it.
   */
  plainRun(text: string, from: number): number {
    if (!this.known) return from
    // one pass for every mark: five indexOf scans of a whole read cost three times as much
    SPECIAL.lastIndex = from
    const mark = SPECIAL.exec(text)
    let end = mark ? mark.index : text.length
    if (end < text.length) {
      // back to the start of the event that holds the marker
      const boundary = text.lastIndexOf('\n\n', end)
      end = boundary < from ? from : boundary + 2
    }
    // every event of the run on one line: `data: {"id":"<upstream id>",` ... the model ... `\n\n`.
    // The model sits at the same offset in every chunk of a stream (same id, object and created
    // widths), so it is compared in place; a search per event (a fresh Boyer-Moore table for each
    // call) cost more than the rest of the run.
    let at = from
    while (at < end) {
      if (!text.startsWith(this.dataIdPrefix, at)) break
      const line = text.indexOf('\n', at)
      if (line < 0 || line >= end || text.charCodeAt(line + 1) !== 10) break
      if (!text.startsWith(this.modelText, at + 6 + this.modelOffset)) {
        const model = text.indexOf(this.modelText, at)
        if (model < 0 || model > line) break
      }
      at = line + 2
    }
    return at
  }

  /** A plain run (plainRun) with Plinth's id and model in place of the upstream's. */
  bulk(run: string): string {
    const out = run.replaceAll(this.idPrefix, this.newIdPrefix)
    return this.modelText === this.newModelText ? out : out.replaceAll(this.modelText, this.newModelText)
  }

  /** The chunk's new text, or undefined when it carries nothing to forward (a usage-only chunk). */
  rewrite(text: string): string | undefined {
    if (!this.known) this.learn(text)
    if (this.known && text.startsWith(this.idPrefix)) {
      const model = text.indexOf(this.modelText)
      if (
        model > 0 &&
        text.indexOf(this.modelText, model + 1) < 0 &&
        text.indexOf('"error"') < 0 &&
        !hasUsage(text) &&
        text.indexOf('"finish_reason":') > 0 &&
        !UNKNOWN_FINISH.test(text)
      ) {
        return this.newIdPrefix + text.slice(this.idPrefix.length, model) + this.newModelText + text.slice(model + this.modelText.length)
      }
    }
    return this.rebuild(text)
  }

  /**
   * The upstream's id and model from a chunk that starts `{"id":"...",` and names its model as a
   * plain string (no escapes), read without a parse; anything less plain waits for `rebuild`.
   */
  private learn(text: string) {
    if (!text.startsWith('{"id":"')) return
    const idEnd = text.indexOf('"', 7)
    const modelAt = text.indexOf('"model":"')
    if (idEnd < 0 || text.charCodeAt(idEnd + 1) !== 44 /* , */ || modelAt < 0) return
    const modelEnd = text.indexOf('"', modelAt + 9)
    if (modelEnd < 0) return
    const id = text.slice(7, idEnd)
    const model = text.slice(modelAt + 9, modelEnd)
    if (id.includes('\\') || model.includes('\\')) return
    this.know(id, model, text)
  }

  private know(id: string, model: string, text: string) {
    this.known = true
    this.idPrefix = `{"id":${JSON.stringify(id)},`
    this.dataIdPrefix = `data: ${this.idPrefix}`
    this.modelText = `"model":${JSON.stringify(model)}`
    this.modelOffset = Math.max(0, text.indexOf(this.modelText))
  }

  private rebuild(text: string): string | undefined {
    const chunk = JSON.parse(text) as (WireChatChunk & Record<string, unknown>) | null
    if (!chunk || typeof chunk !== 'object') return undefined
    if (chunk.error !== undefined && chunk.error !== null) throw upstreamStreamError(this.upstream, chunk.error)
    // the first chunk tells what the rest will say: servers answer an alias with a dated name
    if (!this.known && typeof chunk.id === 'string' && typeof chunk.model === 'string') this.know(chunk.id, chunk.model, text)
    if (chunk.usage) this.usage = toUsage(chunk.usage)
    const choices = Array.isArray(chunk.choices) ? chunk.choices : []
    if (chunk.usage && choices.length === 0) return undefined
    delete chunk.usage
    const out: Record<string, unknown> = { id: this.identity.id, object: this.identity.object }
    for (const key in chunk) if (key !== 'id' && key !== 'object') out[key] = chunk[key]
    out.model = this.identity.model
    out.created ??= Math.floor(Date.now() / 1000)
    out.choices = choices.map((choice, position) => {
      // a server's null or scalar choice reads as an empty one, not a TypeError mid-stream
      const c = (choice && typeof choice === 'object' ? choice : {}) as Record<string, unknown>
      c.index ??= position
      if (this.identity.object === 'chat.completion.chunk') c.delta ??= {}
      else c.text ??= ''
      c.finish_reason = c.finish_reason == null ? null : toFinishReason(c.finish_reason as string)
      return c
    })
    return JSON.stringify(out)
  }
}

/**
 * Marks of events that need a look of their own: usage, errors, the end, and a finish reason
 * (once per choice; `rewrite` maps the ones OpenAI does not have).
 */
const SPECIAL = /"usage": ?\{|"error"|\[DONE\]|"finish_reason":"/g

function hasUsage(text: string): boolean {
  const at = text.indexOf('"usage":')
  return at >= 0 && text.charCodeAt(at + 8) !== 110 /* n of null */
}

/**
 * An upstream SSE body as the passthrough stream: one item per network read, holding the frames
 * that read completed, so a burst of chunks costs one write downstream, not one each.
 */
export function passthroughStream(
  upstream: string,
  open: () => Promise<UpstreamExchange>,
  rewriter: ChunkRewriter,
  legacy: boolean,
): PassthroughStream {
  // the frames forwarded, kept in case the upstream never reports usage and Plinth must count it
  const forwarded: string[] = []
  async function* items(): AsyncGenerator<string> {
    const framer = new PassthroughFramer(upstream, rewriter)
    const exchange = await open()
    try {
      for await (const read of exchange.body) yield* emit(framer.push(read))
      yield* emit(framer.end())
    } catch (error) {
      throw exchange.fail(error)
    } finally {
      exchange.dispose()
    }
  }
  /** A read's frames, then its failure if it had one: the chunks before an error still go out. */
  function* emit(result: Framed): Generator<string> {
    if (result.out) {
      if (!rewriter.usage) forwarded.push(result.out)
      yield result.out
    }
    if (result.error !== undefined) throw result.error
  }
  const iterable = items()
  let counted: Usage | undefined
  return {
    [Symbol.asyncIterator]: () => iterable,
    usage(count: (parts: StreamPart[]) => Usage): Usage {
      if (rewriter.usage) return rewriter.usage
      if (!counted) {
        const reader = legacy ? new CompletionChunkReader() : new ChatChunkReader()
        const parser = new SseParser()
        const parts: StreamPart[] = []
        for (const text of forwarded) for (const message of parser.push(text)) parts.push(...reader.read(JSON.parse(message.data)))
        counted = count(parts)
      }
      return counted
    },
  }
}

type Framed = { out: string; error?: unknown }

/**
 * Upstream bytes → Plinth's SSE frames. While the upstream frames its events as `data: {...}\n\n`
 * (every OpenAI-compatible server seen), complete events are cut from the text as it arrives and
 * runs of plain chunks are rewritten in bulk (ChunkRewriter.plainRun); anything else goes event by
 * event. An upstream that frames otherwise (CR line ends) is handed to the full SseParser.
 */
export class PassthroughFramer {
  private pending = ''
  private parser: SseParser | undefined
  // StringDecoder: Node's native decoder, cheaper per read than TextDecoder; holds a multi-byte
  // character split across reads until its last byte comes
  private readonly decoder = new StringDecoder('utf8')
  /** Parses the single complete events that cannot go in bulk and are not one `data:` line. */
  private single: SseParser | undefined
  private started = false

  constructor(
    private readonly upstream: string,
    private readonly rewriter: ChunkRewriter,
  ) {}

  push(read: Uint8Array): Framed {
    let text = this.decoder.write(read as Buffer)
    if (!this.started && text) {
      this.started = true
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    }
    if (this.parser) return this.messages(this.parser.push(text))
    const all = this.pending + text
    if (all.indexOf('\r') >= 0) {
      this.parser = new SseParser()
      this.pending = ''
      return this.messages(this.parser.push(all))
    }
    const cut = all.lastIndexOf('\n\n')
    if (cut < 0) {
      this.pending = all
      return { out: '' }
    }
    this.pending = all.slice(cut + 2)
    return this.events(all.slice(0, cut + 2))
  }

  end(): Framed {
    const rest = this.decoder.end()
    if (this.parser) return this.messages([...this.parser.push(rest), ...this.parser.end()])
    // the usual end: the last event had its blank line, nothing is left
    if (!this.pending && !rest) return { out: '' }
    // a last event without its blank line still counts, as the full parser has it
    const parser = new SseParser()
    return this.messages([...parser.push(this.pending + rest), ...parser.end()])
  }

  /** Complete `\n\n`-ended events: plain runs in bulk, the others one by one. */
  private events(text: string): Framed {
    let out = ''
    let at = 0
    try {
      while (at < text.length) {
        const run = this.rewriter.plainRun(text, at)
        if (run > at) {
          out += this.rewriter.bulk(text.slice(at, run))
          at = run
          continue
        }
        const next = text.indexOf('\n\n', at) + 2
        const data = oneDataLine(text, at, next)
        if (data !== undefined) out += this.frame({ event: undefined, data })
        else for (const message of (this.single ??= new SseParser()).push(text.slice(at, next))) out += this.frame(message)
        at = next
      }
    } catch (error) {
      return { out, error }
    }
    return { out }
  }

  private messages(messages: SseMessage[]): Framed {
    let out = ''
    try {
      for (const message of messages) out += this.frame(message)
    } catch (error) {
      return { out, error }
    }
    return { out }
  }

  private frame(message: SseMessage): string {
    // keep reading after [DONE] so the body ends cleanly and the connection returns to the pool;
    // an empty `data:` line (a heartbeat some servers send) carries no chunk
    if (message.data === '[DONE]' || message.data === '') return ''
    if (message.event === 'error') throw upstreamStreamError(this.upstream, safeParse(message.data))
    const text = this.rewriter.rewrite(message.data)
    return text === undefined ? '' : `data: ${text}\n\n`
  }
}

/**
 * The data of an event that is one `data: ...` line (the usage chunk, `[DONE]`): what the full
 * parser would give, without it. Anything else (other fields, several lines, comments, no space
 * after the colon) is undefined and goes to the parser.
 */
function oneDataLine(text: string, from: number, end: number): string | undefined {
  if (!text.startsWith('data: ', from)) return undefined
  const line = text.indexOf('\n', from)
  return line === end - 2 ? text.slice(from + 6, line) : undefined
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return { message: text }
  }
}

/**
 * A non-streamed upstream chat answer as Plinth's: its id and the public model, OpenAI's required
 * fields filled where a server leaves them out (Ollama sends no `logprobs`, no `refusal`), finish
 * reasons mapped, everything else (annotations, audio, tool calls...) kept as the upstream sent it.
 */
export function chatAnswer(answer: unknown, identity: { id: string; model: string }): PassthroughAnswer {
  const wire = (answer && typeof answer === 'object' ? answer : {}) as Record<string, unknown> & WireChatChunk
  const choices = (Array.isArray(wire.choices) ? wire.choices : []).map((choice, position) => {
    const c = (choice ?? {}) as Record<string, unknown> & WireChatChoice
    const message = { ...((c.message ?? {}) as Record<string, unknown>) }
    message.role ??= 'assistant'
    message.content ??= null
    message.refusal ??= null
    return { ...c, index: c.index ?? position, message, logprobs: c.logprobs ?? null, finish_reason: toFinishReason(c.finish_reason) }
  })
  const body: Record<string, unknown> = { ...wire, id: identity.id, object: 'chat.completion', model: identity.model, choices }
  body.created ??= Math.floor(Date.now() / 1000)
  // cleared, not deleted: a delete in the middle turns the object into a dictionary, slower to
  // serialise; undefined is left out of the JSON, and the caller sets the counted usage in place
  body.usage = undefined
  return {
    body,
    usage: wire.usage ? toUsage(wire.usage) : undefined,
    parts: () => chatCompletionParts(wire),
  }
}
