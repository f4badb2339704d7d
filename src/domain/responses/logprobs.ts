import type { TokenLogprob } from '../../providers/provider.js'

/**
 * Log probabilities in a Responses answer (`include: ["message.output_text.logprobs"]`), from
 * the chat call's `logprobs.content`. An output_text part has them with their bytes (SDK 6's
 * ResponseOutputText.Logprob, bytes never null); the text events have them without (its
 * ResponseTextDeltaEvent.Logprob).
 */
export type TextLogprob = {
  token: string
  logprob: number
  bytes: number[]
  top_logprobs: { token: string; logprob: number; bytes: number[] }[]
}

export type EventLogprob = { token: string; logprob: number; top_logprobs: { token: string; logprob: number }[] }

/** A token with no byte form upstream (`bytes: null`) still has its UTF-8 bytes. */
function bytesOf(token: string, bytes: number[] | null | undefined): number[] {
  return bytes ?? [...Buffer.from(token, 'utf8')]
}

/** A chat answer's `logprobs.content` (none when they were not asked for) as a part's. */
export function textLogprobs(content: readonly TokenLogprob[] | null | undefined): TextLogprob[] {
  if (!content?.length) return []
  return content.map((entry) => ({
    token: entry.token,
    logprob: entry.logprob,
    bytes: bytesOf(entry.token, entry.bytes),
    top_logprobs: (entry.top_logprobs ?? []).map((top) => ({ token: top.token, logprob: top.logprob, bytes: bytesOf(top.token, top.bytes) })),
  }))
}

/** A part's log probabilities as the `response.output_text.delta` / `.done` events carry them. */
export function eventLogprobs(entries: readonly TextLogprob[] | undefined): EventLogprob[] {
  return (entries ?? []).map((entry) => ({
    token: entry.token,
    logprob: entry.logprob,
    top_logprobs: entry.top_logprobs.map((top) => ({ token: top.token, logprob: top.logprob })),
  }))
}
