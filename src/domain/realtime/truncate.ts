import { invalidRequest } from '../../errors.js'
import type { RealtimeItem } from './items.js'

/** A spoken item's audio: how long it lasts, and, once truncated, the words heard before the cut. */
export type Truncation = { ms: number; heard?: string }

/**
 * conversation.item.truncate on an item (found: an unknown one is item_not_found before this).
 * The messages are OpenAI's as observed ("Only model output audio messages can be truncated",
 * "Audio content of 2700ms is already shorter than 3207ms", both with no code); the bounds of
 * content_index and audio_end_ms are worded as OpenAI words integer bounds. As OpenAI does, the
 * item's transcript is removed (`transcript: ""`), so the conversation holds no text the user did
 * not hear. Plinth's model reads text, not audio: it keeps the words spoken before the cut, the
 * share of the transcript in proportion to the audio heard, ending at a word.
 */
export function truncateItem(item: RealtimeItem, spoken: Truncation | undefined, contentIndex: number, audioEndMs: number) {
  const part = item.content?.[contentIndex]
  if (item.type !== 'message' || item.role !== 'assistant' || !item.content?.some((p) => p.type === 'audio'))
    throw invalidRequest('Only model output audio messages can be truncated', null, null)
  if (contentIndex < 0) throw belowMin('content_index', 0, contentIndex)
  if (contentIndex > item.content.length - 1) throw invalidRequest(`Invalid 'content_index': integer above maximum value. Expected a value <= ${item.content.length - 1}, but got ${contentIndex} instead.`, 'content_index', 'integer_above_max_value')
  if (!part || part.type !== 'audio') throw invalidRequest('Only model output audio messages can be truncated', null, null)
  if (audioEndMs < 0) throw belowMin('audio_end_ms', 0, audioEndMs)
  const audio = spoken ?? { ms: 0 }
  const length = Math.floor(audio.ms)
  if (audioEndMs > length) throw invalidRequest(`Audio content of ${length}ms is already shorter than ${audioEndMs}ms`, null, null)
  const said = audio.heard ?? part.transcript ?? ''
  audio.heard = length > 0 ? wordsIn(said, audioEndMs / length) : ''
  audio.ms = audioEndMs
  part.transcript = ''
  return audio
}

/** The first `share` of the text, cut back to the end of a word. */
function wordsIn(text: string, share: number): string {
  if (share >= 1) return text
  const at = Math.floor(text.length * share)
  if (at === 0) return ''
  if (/\s/.test(text[at] ?? ' ')) return text.slice(0, at).trimEnd()
  const space = text.lastIndexOf(' ', at)
  return space < 0 ? '' : text.slice(0, space).trimEnd()
}

function belowMin(param: string, min: number, got: number) {
  return invalidRequest(`Invalid '${param}': integer below minimum value. Expected a value >= ${min}, but got ${got} instead.`, param, 'integer_below_min_value')
}
