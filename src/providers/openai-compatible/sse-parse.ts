export type SseMessage = { event: string | undefined; data: string }

const LINE_BREAK = /\r\n|\r|\n/g

/**
 * Incremental Server-Sent Events parser (the WHATWG rules that matter for model servers): events
 * may be split anywhere across network chunks, lines end in LF, CRLF or CR, `:` lines are
 * comments, several `data:` lines join with LF, and an event is dispatched at its blank line.
 */
export class SseParser {
  private buffer = ''
  private data: string | undefined
  private event: string | undefined
  private started = false
  private readonly decoder = new TextDecoder()

  /** Feeds one network chunk; returns the events it completed. */
  push(chunk: Uint8Array | string): SseMessage[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true })
    if (!this.started && text) {
      this.started = true
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    }
    text = this.buffer + text
    const out: SseMessage[] = []
    let start = 0
    LINE_BREAK.lastIndex = 0
    for (let match = LINE_BREAK.exec(text); match; match = LINE_BREAK.exec(text)) {
      // a CR at the very end may be the first half of a CRLF split across chunks
      if (match[0] === '\r' && match.index === text.length - 1) break
      this.line(text.slice(start, match.index), out)
      start = LINE_BREAK.lastIndex
    }
    this.buffer = start === 0 ? text : text.slice(start)
    return out
  }

  /**
   * The stream ended: flushes what is left. Servers that omit the final blank line still get
   * their last event delivered.
   */
  end(): SseMessage[] {
    const out = this.push(this.decoder.decode())
    if (this.buffer) {
      this.line(this.buffer.endsWith('\r') ? this.buffer.slice(0, -1) : this.buffer, out)
      this.buffer = ''
    }
    this.line('', out)
    return out
  }

  private line(line: string, out: SseMessage[]) {
    if (line === '') {
      if (this.data !== undefined) out.push({ event: this.event, data: this.data })
      this.data = undefined
      this.event = undefined
      return
    }
    if (line.charCodeAt(0) === 58 /* : */) return
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.charCodeAt(0) === 32) value = value.slice(1)
    if (field === 'data') this.data = this.data === undefined ? value : this.data + '\n' + value
    else if (field === 'event') this.event = value
  }
}

/** The events of an SSE body, each yielded as soon as its blank line arrives. */
export async function* parseSse(
  body: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<SseMessage> {
  const parser = new SseParser()
  for await (const chunk of body) {
    for (const message of parser.push(chunk)) yield message
  }
  for (const message of parser.end()) yield message
}
