import type { ChatMessageParam } from '../../schemas/chat.js'
import type { GenerateCall, StreamPart, TokenLogprob } from '../provider.js'
import { Pacer } from '../../pacing.js'
import { tokenPiecesAsync } from '../tokenizer.js'

/** The text of a message's content (text parts joined; other parts are not text). */
export function messageText(message: ChatMessageParam | undefined): string {
  if (!message) return ''
  const content = (message as { content?: unknown }).content
  if (typeof content === 'string') return content
  if (Array.isArray(content)) {
    return content
      .map((part: { type: string; text?: string; refusal?: string }) => part.text ?? part.refusal ?? '')
      .join('')
  }
  return ''
}

export function lastUserText(call: GenerateCall): string {
  if (call.prompt !== undefined) return call.prompt
  const messages = call.messages ?? []
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === 'user') return messageText(messages[i])
  return ''
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer)
      reject(signal.reason ?? new Error('aborted'))
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', done)
      resolve()
    }, ms)
    if (signal.aborted) done()
    else signal.addEventListener('abort', done, { once: true })
  })
}

/** What a test model says, as token pieces, and why it stops. */
export type Pieces = { pieces: string[]; finishReason: 'stop' | 'length' }

/**
 * `text` as a model would emit it: cut at the first stop sequence (finish_reason 'stop', the stop
 * text itself left out) or after max_tokens ('length'). Only as much of the text is encoded as may
 * be emitted, in slices (tokenPiecesAsync), so a long echo never holds the event loop.
 */
export async function textPieces(call: GenerateCall, text: string): Promise<Pieces> {
  let out = text
  for (const stop of call.sampling.stop ?? []) {
    const at = stop ? out.indexOf(stop) : -1
    if (at >= 0) out = out.slice(0, at)
  }
  const max = call.sampling.maxTokens ?? Infinity
  const pieces = await tokenPiecesAsync(out, max + 1, call.signal)
  if (pieces.length <= max) return { pieces, finishReason: 'stop' }
  pieces.length = max
  return { pieces, finishReason: 'length' }
}

/**
 * Emits pieces as one choice, token by token. The parts are paced: a consumer that pulls them
 * without I/O in between (a non-streamed answer) would otherwise run all of them, n choices of
 * 16k tokens, in one turn of the event loop.
 */
export async function* emitPieces(
  call: GenerateCall,
  choice: number,
  { pieces, finishReason }: Pieces,
  options: { chunkDelayMs?: number } = {},
): AsyncGenerator<StreamPart> {
  const pacer = new Pacer()
  for (const piece of pieces) {
    if (call.signal.aborted) return
    if (options.chunkDelayMs) await sleep(options.chunkDelayMs, call.signal)
    const part: StreamPart = { type: 'text-delta', choice, text: piece }
    if (call.sampling.logprobs) part.logprobs = [certainLogprob(piece, call.sampling.topLogprobs ?? 0)]
    yield part
    await pacer.pace()
  }
  yield { type: 'choice-end', choice, finishReason }
}

/** textPieces, then emitPieces: one choice saying `text`. */
export async function* emitText(
  call: GenerateCall,
  choice: number,
  text: string,
  options: { chunkDelayMs?: number } = {},
): AsyncGenerator<StreamPart> {
  yield* emitPieces(call, choice, await textPieces(call, text), options)
}

/** A deterministic model is certain of each token it emits: logprob 0 (probability 1). */
function certainLogprob(token: string, top: number): TokenLogprob {
  const bytes = [...Buffer.from(token, 'utf8')]
  return {
    token,
    logprob: 0,
    bytes,
    top_logprobs: top > 0 ? [{ token, logprob: 0, bytes }] : [],
  }
}
