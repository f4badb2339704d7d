import { SerializedChunks } from '../domain/inference/serialized.js'
import { JsonText } from '../pacing.js'
import type { SseEvent } from '../http/sse.js'
import type { Principal } from '../principal.js'
import { BodyTap } from '../request-log.js'
import type { InferenceOutcome } from './inference.js'

/**
 * The dashboard's request log keeps a request's prompt and answer text when its project opted in
 * (Principal.logBodies): taken here from the parsed parameters and the outcome, never from the
 * raw request, so no header (Authorization) can land there. Streams are tapped as they go out.
 * Every other project's requests pass through untouched.
 */
export function keepBodies(principal: Principal, params: unknown, outcome: InferenceOutcome): InferenceOutcome {
  const record = principal.logBodies ? principal.request : undefined
  if (!record) return outcome
  const prompt = new BodyTap()
  collect(params, prompt, PROMPT_KEYS)
  const answer = new BodyTap()
  record.bodies = { prompt: prompt.body(), answer }
  if ('json' in outcome) {
    collect(answerOf(outcome.json), answer, ANSWER_KEYS)
    return outcome
  }
  if ('chunks' in outcome) return { chunks: tapChunks(outcome.chunks, answer) }
  return { ...outcome, events: tapEvents(outcome.events, answer) }
}

/** The fields whose strings are prompt text: messages and their parts, tool calls, inputs. */
const PROMPT_KEYS = ['instructions', 'messages', 'prompt', 'input', 'content', 'text', 'refusal', 'tool_calls', 'function', 'name', 'arguments', 'output']
const ANSWER_KEYS = ['choices', 'message', 'delta', 'content', 'text', 'refusal', 'summary', 'tool_calls', 'function', 'name', 'arguments', 'output']

/**
 * Walks `value` depth first, adding the strings under `keys` (and, in prompts, each message's
 * role as a label), until the tap is full: the walk is bounded by what it keeps, not by the
 * request's size.
 */
function collect(value: unknown, tap: BodyTap, keys: readonly string[]) {
  if (tap.isFull || value === null || value === undefined) return
  if (typeof value === 'string') {
    tap.add(value)
    return
  }
  if (Array.isArray(value)) {
    // token arrays (completions, embeddings): their text is not known here
    if (typeof value[0] === 'number') {
      tap.add(`[${value.length} tokens]`)
      return
    }
    value.forEach((item, i) => {
      if (i > 0) tap.add('\n')
      collect(item, tap, keys)
    })
    return
  }
  if (typeof value !== 'object') return
  const object = value as Record<string, unknown>
  if (keys === PROMPT_KEYS && typeof object.role === 'string') tap.add(`${object.role}: `)
  if (typeof object.type === 'string' && /image|audio|file/.test(object.type)) tap.add(`[${object.type}]`)
  // in the keys' order, not the client's: instructions before input, a name before its arguments
  let fields = 0
  for (const key of keys) {
    const child = object[key]
    if (child === undefined || child === null) continue
    // a tool call's function name, before its arguments; a message's `name` is not text
    if (key === 'name') {
      if ('arguments' in object && typeof child === 'string') tap.add(`${child} `)
      continue
    }
    if (fields++ > 0 && key !== 'arguments') tap.add('\n')
    collect(child, tap, keys)
  }
}

/** What an answer says: chat and completion choices, a response's output items. */
function answerOf(json: unknown): unknown {
  const body = (json instanceof JsonText ? json.value() : json) as Record<string, unknown> | null
  if (!body || typeof body !== 'object') return undefined
  if (Array.isArray(body.choices)) return body.choices
  if (body.object === 'response') return body.output
  return undefined
}

async function* tapChunks(chunks: AsyncIterable<unknown>, answer: BodyTap): AsyncGenerator<unknown> {
  for await (const chunk of chunks) {
    if (!answer.isFull) {
      for (const object of chunk instanceof SerializedChunks ? chunk.objects() : [chunk]) {
        // deltas run on: no separator between them
        for (const choice of choicesOf(object)) collect(choice.delta ?? choice.text, answer, ANSWER_KEYS)
      }
    }
    yield chunk
  }
}

function choicesOf(chunk: unknown): { delta?: unknown; text?: unknown }[] {
  const choices = (chunk as { choices?: unknown } | null)?.choices
  return Array.isArray(choices) ? choices : []
}

async function* tapEvents(events: AsyncIterable<SseEvent>, answer: BodyTap): AsyncGenerator<SseEvent> {
  for await (const event of events) {
    if (!answer.isFull) {
      const data = event.raw === undefined ? [event.data] : rawData(event.raw)
      for (const item of data) {
        const delta = item as { type?: string; delta?: unknown }
        if (delta?.type === 'response.output_text.delta' && typeof delta.delta === 'string') answer.add(delta.delta)
      }
    }
    yield event
  }
}

function rawData(raw: string): unknown[] {
  const out: unknown[] = []
  for (const line of raw.split('\n')) {
    if (!line.startsWith('data:')) continue
    try {
      out.push(JSON.parse(line.slice(5)))
    } catch {
      // [DONE] and the like carry no text
    }
  }
  return out
}
