import { responseLogprobsTooLarge } from '../../errors.js'
import { pathGoesOn } from '../assistants/run-answer.js'
import { MAX_ANSWER_LOGPROBS } from '../inference/chunks.js'
import { eventLogprobs, type TextLogprob } from './logprobs.js'
import { newFunctionCall, newMessage, type BuiltinCallOutput, type FunctionCallOutput, type MessageOutput, type OutputItem } from './objects.js'

/** One event of a streamed response (the spec's ResponseStreamEvent), numbered in order. */
export type ResponseEvent = { type: string; sequence_number: number } & Record<string, unknown>

type ToolCallDelta = { index: number; id?: string; function?: { name?: string; arguments?: string } }
export type ChatDelta = { content?: string | null; refusal?: string | null; tool_calls?: ToolCallDelta[] }

type OpenText = {
  item: MessageOutput
  index: number
  kind: 'output_text' | 'refusal'
  text: string
  /** text held back: it may be the start of a citation marker, not yet closed */
  held: string
  /** the file_citation annotations of the markers taken out, at their places in `text` */
  cited: FileCitation[]
  /** the text's log probabilities (when asked for), and those no delta event has carried yet */
  logprobs: TextLogprob[]
  unsent: TextLogprob[]
}
type FileCitation = { type: 'file_citation'; index: number; file_id: string; filename: string }

/** A marker longer than this is text that happens to hold the bracket, not a marker. */
const MARKER_MAX = 120
type OpenCall = { item: FunctionCallOutput; index: number; chatIndex: number }

/** A call of a built-in tool as the model wrote it: run by the response, not shown as a function call. */
export type CapturedCall = { id: string; name: string; arguments: string }

/** A file the code wrote in its container (`sandbox:/mnt/data/<name>` in the answer cites it). */
export type WrittenFile = { container_id: string; file_id: string; path: string; filename: string }

/** What a file search found, cited in the answer by its marker (`【0:1†name.txt】`). */
export type Citation = { text: string; file_id: string; filename: string }

/** The events a built-in call's item has while it runs, by the item's type. */
const BUILTIN_EVENTS: Record<string, { running: string[]; completed: string }> = {
  file_search_call: { running: ['response.file_search_call.in_progress', 'response.file_search_call.searching'], completed: 'response.file_search_call.completed' },
  code_interpreter_call: {
    running: ['response.code_interpreter_call.in_progress', 'response.code_interpreter_call.interpreting'],
    completed: 'response.code_interpreter_call.completed',
  },
}

/**
 * Chat deltas as the Responses stream's events. Text opens a message item and its content part;
 * each tool call opens a function_call item. An item is closed (its `done` events) when the
 * next one opens or the answer ends, so items stream one after another, as OpenAI's do.
 */
export class ResponseEvents {
  private sequence = 0
  readonly output: OutputItem[] = []
  private text: OpenText | null = null
  private call: OpenCall | null = null
  /** built-in calls of the model's current turn, by their chat index */
  private captured = new Map<number, CapturedCall>()
  private citations: Citation[] = []
  /** files the response's code wrote in its container: an answer linking one cites it */
  private written: WrittenFile[] = []
  /** log probability entries kept so far (each token and its alternatives), within the bound */
  private logprobEntries = 0

  /** `builtins`: the function names of the response's built-in tools (their calls are run, not shown). */
  constructor(private readonly builtins: ReadonlySet<string> = new Set()) {}

  event(type: string, fields: Record<string, unknown> = {}): ResponseEvent {
    return { type, sequence_number: this.sequence++, ...fields }
  }

  /** `logprobs`: the log probabilities of the delta's text, when the request asked for them. */
  delta(delta: ChatDelta, logprobs: TextLogprob[] = []): ResponseEvent[] {
    const events: ResponseEvent[] = []
    if (delta.content) events.push(...this.textDelta('output_text', delta.content, logprobs))
    if (delta.refusal) events.push(...this.textDelta('refusal', delta.refusal))
    for (const call of delta.tool_calls ?? []) events.push(...this.callDelta(call))
    return events
  }

  /** Closes what is open; `status` is the items' (incomplete when the answer was cut off). */
  finish(status: 'completed' | 'incomplete'): ResponseEvent[] {
    // an answer of nothing is still a message, of empty text, as the non-streamed one is
    const opened = this.output.length ? [] : this.openText('output_text')
    return [...opened, ...this.closeText(status), ...this.closeCall(status)]
  }

  private textDelta(kind: OpenText['kind'], delta: string, logprobs: TextLogprob[] = []): ResponseEvent[] {
    const events: ResponseEvent[] = []
    if (this.text && this.text.kind !== kind) events.push(...this.closeText('completed'))
    if (!this.text) events.push(...this.closeCall('completed'), ...this.openText(kind))
    const open = this.text!
    if (logprobs.length) this.keepLogprobs(open, logprobs)
    delta = kind === 'output_text' && this.citations.length ? this.uncite(open, delta) : delta
    if (!delta) return events
    open.text += delta
    const where = { item_id: open.item.id, output_index: open.index, content_index: 0 }
    if (kind === 'refusal') events.push(this.event('response.refusal.delta', { ...where, delta }))
    else events.push(this.event('response.output_text.delta', { ...where, delta, logprobs: this.unsent(open) }))
    return events
  }

  /** A response's log probabilities are bounded as a non-streamed chat answer's are (chunks.ts). */
  private keepLogprobs(open: OpenText, logprobs: TextLogprob[]) {
    for (const entry of logprobs) this.logprobEntries += 1 + entry.top_logprobs.length
    if (this.logprobEntries > MAX_ANSWER_LOGPROBS) throw responseLogprobsTooLarge(MAX_ANSWER_LOGPROBS)
    open.logprobs.push(...logprobs)
    open.unsent.push(...logprobs)
  }

  /** The log probabilities of text held back (a marker not yet closed) go with the next delta. */
  private unsent(open: OpenText) {
    const entries = eventLogprobs(open.unsent)
    open.unsent = []
    return entries
  }

  private openText(kind: OpenText['kind']): ResponseEvent[] {
    const item = newMessage()
    const index = this.output.push(item) - 1
    this.text = { item, index, kind, text: '', held: '', cited: [], logprobs: [], unsent: [] }
    return [
      this.event('response.output_item.added', { output_index: index, item: structuredClone(item) }),
      this.event('response.content_part.added', { item_id: item.id, output_index: index, content_index: 0, part: this.part('') }),
    ]
  }

  private part(text: string) {
    return this.text!.kind === 'refusal'
      ? { type: 'refusal' as const, refusal: text }
      : { type: 'output_text' as const, text, annotations: [] as unknown[], logprobs: [] as TextLogprob[] }
  }

  private closeText(status: 'completed' | 'incomplete'): ResponseEvent[] {
    const open = this.text
    if (!open) return []
    // a bracket never closed was text after all
    const flushed: ResponseEvent[] = []
    if (open.held) {
      const rest = open.held
      open.held = ''
      open.text += rest
      flushed.push(this.event('response.output_text.delta', { item_id: open.item.id, output_index: open.index, content_index: 0, delta: rest, logprobs: this.unsent(open) }))
    }
    const part = this.part(open.text)
    const where = { item_id: open.item.id, output_index: open.index, content_index: 0 }
    if (part.type === 'output_text') {
      const linked = containerCitations(open.text, this.written)
      for (const annotation of linked) {
        flushed.push(this.event('response.output_text.annotation.added', { ...where, annotation_index: open.cited.length + linked.indexOf(annotation), annotation }))
      }
      part.annotations = [...open.cited, ...linked]
      part.logprobs = open.logprobs
    }
    this.text = null
    open.item.content = [part]
    open.item.status = status
    return [
      ...flushed,
      open.kind === 'refusal'
        ? this.event('response.refusal.done', { ...where, refusal: open.text })
        : this.event('response.output_text.done', { ...where, text: open.text, logprobs: eventLogprobs(open.logprobs) }),
      this.event('response.content_part.done', { ...where, part }),
      this.event('response.output_item.done', { output_index: open.index, item: structuredClone(open.item) }),
    ]
  }

  /** The turn's built-in calls, once the model has written them; the next turn starts afresh. */
  takeBuiltinCalls(): CapturedCall[] {
    const calls = [...this.captured.values()]
    this.captured = new Map()
    return calls
  }

  /** Files a later answer may link (and so cite). */
  wrote(files: WrittenFile[]) {
    this.written.push(...files)
  }

  /** Sources a later answer may cite. */
  cite(citations: Citation[]) {
    this.citations.push(...citations)
  }

  /** A built-in call's item opens and runs: added, then its in-progress events. */
  builtinStarted(item: BuiltinCallOutput): { index: number; events: ResponseEvent[] } {
    const events = [...this.closeText('completed'), ...this.closeCall('completed')]
    const index = this.output.push(item) - 1
    events.push(this.event('response.output_item.added', { output_index: index, item: structuredClone(item) }))
    if (item.type === 'code_interpreter_call') {
      const where = { item_id: item.id, output_index: index }
      events.push(this.event('response.code_interpreter_call_code.delta', { ...where, delta: item.code }))
      events.push(this.event('response.code_interpreter_call_code.done', { ...where, code: item.code }))
    }
    for (const type of BUILTIN_EVENTS[item.type]?.running ?? []) events.push(this.event(type, { output_index: index, item_id: item.id }))
    return { index, events }
  }

  /** The call ran: its item, completed, replaces the running one. */
  builtinDone(index: number, item: BuiltinCallOutput): ResponseEvent[] {
    this.output[index] = item
    const completed = BUILTIN_EVENTS[item.type]?.completed
    return [
      ...(completed ? [this.event(completed, { output_index: index, item_id: item.id })] : []),
      this.event('response.output_item.done', { output_index: index, item: structuredClone(item) }),
    ]
  }

  /**
   * The delta with the citation markers of the sources found (`【0:1†name.txt】`) taken out, each
   * as a file_citation at its place in the text, as OpenAI's Responses answers cite: the text
   * never shows a marker, streamed or not. A marker may arrive split over deltas, so text from an
   * open bracket is held back until it closes (or grows too long to be one).
   */
  private uncite(open: OpenText, delta: string): string {
    let rest = open.held + delta
    open.held = ''
    let out = ''
    for (;;) {
      const start = rest.indexOf('【')
      if (start < 0) return out + rest
      out += rest.slice(0, start)
      const end = rest.indexOf('】', start)
      if (end < 0) {
        if (rest.length - start > MARKER_MAX) {
          out += rest.slice(start, start + 1)
          rest = rest.slice(start + 1)
          continue
        }
        open.held = rest.slice(start)
        return out
      }
      const marker = rest.slice(start, end + 1)
      const citation = this.citations.find((c) => c.text === marker)
      if (citation) open.cited.push({ type: 'file_citation', index: open.text.length + out.length, file_id: citation.file_id, filename: citation.filename })
      else out += marker
      rest = rest.slice(end + 1)
    }
  }

  private callDelta(delta: ToolCallDelta): ResponseEvent[] {
    const events: ResponseEvent[] = []
    const captured = this.captured.get(delta.index)
    if (captured || (delta.function?.name && this.builtins.has(delta.function.name) && this.call?.chatIndex !== delta.index)) {
      if (this.call) events.push(...this.closeCall('completed'))
      const call = captured ?? { id: delta.id ?? '', name: delta.function!.name!, arguments: '' }
      call.arguments += delta.function?.arguments ?? ''
      this.captured.set(delta.index, call)
      return events
    }
    if (this.call && this.call.chatIndex !== delta.index) events.push(...this.closeCall('completed'))
    if (!this.call) {
      events.push(...this.closeText('completed'))
      const item = newFunctionCall(delta.id ?? '', delta.function?.name ?? '')
      const index = this.output.push(item) - 1
      this.call = { item, index, chatIndex: delta.index }
      events.push(this.event('response.output_item.added', { output_index: index, item: structuredClone(item) }))
    }
    const open = this.call
    if (delta.id && !open.item.call_id) open.item.call_id = delta.id
    if (delta.function?.name && !open.item.name) open.item.name = delta.function.name
    const args = delta.function?.arguments
    if (args) {
      open.item.arguments += args
      events.push(this.event('response.function_call_arguments.delta', { item_id: open.item.id, output_index: open.index, delta: args }))
    }
    return events
  }

  private closeCall(status: 'completed' | 'incomplete'): ResponseEvent[] {
    const open = this.call
    if (!open) return []
    this.call = null
    open.item.status = status
    return [
      this.event('response.function_call_arguments.done', { item_id: open.item.id, output_index: open.index, arguments: open.item.arguments }),
      this.event('response.output_item.done', { output_index: open.index, item: structuredClone(open.item) }),
    ]
  }
}

type ContainerFileCitation = { type: 'container_file_citation'; container_id: string; file_id: string; filename: string; start_index: number; end_index: number }

/**
 * Each `sandbox:/mnt/data/<name>` the answer quotes, of a file this response's code wrote, as a
 * container_file_citation over that link target (start and end in code points, as OpenAI counts
 * text; the end excluded). A longer path (`name.bak`) is not taken for it.
 */
export function containerCitations(text: string, files: readonly WrittenFile[]): ContainerFileCitation[] {
  const found: ContainerFileCitation[] = []
  for (const file of files) {
    const target = `sandbox:${file.path}`
    for (let at = text.indexOf(target); at >= 0; at = text.indexOf(target, at + 1)) {
      if (pathGoesOn(text, at + target.length)) continue
      const start = [...text.slice(0, at)].length
      found.push({ type: 'container_file_citation', container_id: file.container_id, file_id: file.file_id, filename: file.filename, start_index: start, end_index: start + [...target].length })
    }
  }
  return found.sort((a, b) => a.start_index - b.start_index)
}
