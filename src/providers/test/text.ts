import type { ChatMessageParam } from '../../schemas/chat.js'
import type { GenerateCall, StreamPart, TokenLogprob } from '../provider.js'
import { tokenPieces } from '../tokenizer.js'

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

/**
 * Emits `text` as one choice the way a model would: token by token, cut at the first stop
 * sequence (finish_reason 'stop', the stop text itself left out) or after max_tokens ('length').
 */
export async function* emitText(
  call: GenerateCall,
  choice: number,
  text: string,
  options: { chunkDelayMs?: number; logprobs?: boolean } = {},
): AsyncGenerator<StreamPart> {
  let finishReason: 'stop' | 'length' = 'stop'
  let out = text
  for (const stop of call.sampling.stop ?? []) {
    const at = stop ? out.indexOf(stop) : -1
    if (at >= 0) out = out.slice(0, at)
  }
  let pieces = tokenPieces(out)
  const max = call.sampling.maxTokens
  if (max !== undefined && pieces.length > max) {
    pieces = pieces.slice(0, max)
    finishReason = 'length'
  }
  for (const piece of pieces) {
    if (call.signal.aborted) return
    if (options.chunkDelayMs) await sleep(options.chunkDelayMs, call.signal)
    const part: StreamPart = { type: 'text-delta', choice, text: piece }
    if (call.sampling.logprobs) part.logprobs = [certainLogprob(piece, call.sampling.topLogprobs ?? 0)]
    yield part
  }
  yield { type: 'choice-end', choice, finishReason }
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
