import type { PassthroughStream, StreamPart, Usage } from '../provider.js'
import { upstreamStreamError } from './errors.js'
import { ChatChunkReader, CompletionChunkReader, toFinishReason, toUsage } from './map-chunk.js'
import { SseParser } from './sse-parse.js'
import type { UpstreamExchange } from './transport.js'
import type { WireChatChunk } from './wire.js'

/** What every forwarded chunk must say instead of what the upstream said. */
export type ChunkIdentity = { id: string; model: string; object: 'chat.completion.chunk' | 'text_completion' }

const KNOWN_FINISH = /"finish_reason":(?!null|"(?:stop|length|tool_calls|content_filter|function_call)")/

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
  private upstreamId: string | undefined
  private idPrefix = ''
  private modelText = ''
  usage: Usage | undefined

  constructor(
    private readonly upstream: string,
    private readonly identity: ChunkIdentity,
  ) {}

  /** The chunk's new text, or undefined when it carries nothing to forward (a usage-only chunk). */
  rewrite(text: string): string | undefined {
    if (this.upstreamId !== undefined && text.startsWith(this.idPrefix)) {
      const model = text.indexOf(this.modelText)
      if (
        model > 0 &&
        text.indexOf(this.modelText, model + 1) < 0 &&
        text.indexOf('"error"') < 0 &&
        !hasUsage(text) &&
        text.indexOf('"finish_reason":') > 0 &&
        !KNOWN_FINISH.test(text)
      ) {
        return (
          `{"id":${JSON.stringify(this.identity.id)}` +
          text.slice(this.idPrefix.length - 1, model) +
          `"model":${JSON.stringify(this.identity.model)}` +
          text.slice(model + this.modelText.length)
        )
      }
    }
    return this.rebuild(text)
  }

  private rebuild(text: string): string | undefined {
    const chunk = JSON.parse(text) as (WireChatChunk & Record<string, unknown>) | null
    if (!chunk || typeof chunk !== 'object') return undefined
    if (chunk.error !== undefined && chunk.error !== null) throw upstreamStreamError(this.upstream, chunk.error)
    // the first chunk tells what the rest will say: servers answer an alias with a dated name
    if (this.upstreamId === undefined && typeof chunk.id === 'string' && typeof chunk.model === 'string') {
      this.upstreamId = chunk.id
      this.idPrefix = `{"id":${JSON.stringify(chunk.id)},`
      this.modelText = `"model":${JSON.stringify(chunk.model)}`
    }
    if (chunk.usage) this.usage = toUsage(chunk.usage)
    const choices = Array.isArray(chunk.choices) ? chunk.choices : []
    if (chunk.usage && choices.length === 0) return undefined
    delete chunk.usage
    const out: Record<string, unknown> = { id: this.identity.id, object: this.identity.object }
    for (const key in chunk) if (key !== 'id' && key !== 'object') out[key] = chunk[key]
    out.model = this.identity.model
    out.created ??= Math.floor(Date.now() / 1000)
    out.choices = choices.map((choice, position) => {
      const c = choice as Record<string, unknown>
      c.index ??= position
      if (this.identity.object === 'chat.completion.chunk') c.delta ??= {}
      else c.text ??= ''
      c.finish_reason = c.finish_reason == null ? null : toFinishReason(c.finish_reason as string)
      return c
    })
    return JSON.stringify(out)
  }
}

function hasUsage(text: string): boolean {
  const at = text.indexOf('"usage":')
  return at >= 0 && text.charCodeAt(at + 8) !== 110 /* n of null */
}

/**
 * An upstream SSE body as the passthrough stream: one item per network read, holding every chunk
 * that read completed, so a burst of chunks costs one write downstream, not one each.
 */
export function passthroughStream(
  upstream: string,
  open: () => Promise<UpstreamExchange>,
  rewriter: ChunkRewriter,
  legacy: boolean,
): PassthroughStream {
  // the texts forwarded, kept in case the upstream never reports usage and Plinth must count it
  const forwarded: string[] = []
  async function* items(): AsyncGenerator<string[]> {
    const parser = new SseParser()
    const exchange = await open()
    try {
      for await (const read of exchange.body) yield* convert(parser.push(read))
      yield* convert(parser.end())
    } catch (error) {
      throw exchange.fail(error)
    } finally {
      exchange.dispose()
    }
  }
  /** One read's events as one item; a failure comes after the chunks before it, as it did upstream. */
  function* convert(messages: { event: string | undefined; data: string }[]): Generator<string[]> {
    const texts: string[] = []
    try {
      for (const message of messages) {
        // keep reading after [DONE] so the body ends cleanly and the connection returns to the pool
        if (message.data === '[DONE]') continue
        if (message.event === 'error') throw upstreamStreamError(upstream, safeParse(message.data))
        const text = rewriter.rewrite(message.data)
        if (text === undefined) continue
        texts.push(text)
        if (!rewriter.usage) forwarded.push(message.data)
      }
    } catch (error) {
      if (texts.length) yield texts
      throw error
    }
    if (texts.length) yield texts
  }
  const iterable = items()
  let counted: Usage | undefined
  return {
    [Symbol.asyncIterator]: () => iterable,
    usage(count: (parts: StreamPart[]) => Usage): Usage {
      if (rewriter.usage) return rewriter.usage
      if (!counted) {
        const reader = legacy ? new CompletionChunkReader() : new ChatChunkReader()
        const parts: StreamPart[] = []
        for (const text of forwarded) parts.push(...reader.read(JSON.parse(text)))
        counted = count(parts)
      }
      return counted
    },
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return { message: text }
  }
}
