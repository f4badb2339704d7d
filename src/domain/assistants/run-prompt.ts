import { Pacer } from '../../pacing.js'
import type { ChatMessageParam, Tool } from '../../schemas/chat.js'
import type { MessageContent } from '../../schemas/messages.js'
import type { FunctionToolCall, StepDetails, TruncationStrategy } from '../../schemas/runs.js'
import type { RunStepRow } from '../../storage/repositories/runs.js'
import { countChatPromptTokensAsync } from '../inference/tokens.js'
import type { MessageRecord } from './records.js'
import { stepToolData } from './run-answer.js'

/** A message of the thread as the prompt shows it, with its stored token count (null: not counted yet). */
export type CountedMessage = { id: string; message: ChatMessageParam; tokens: number | null }

/**
 * Messages of the thread known unchanged since they were read (prompt-cache.ts): converted and
 * counted, oldest first. A prompt takes as many of the newest as fit in one step, by their sums.
 */
export type PromptBlock = {
  messages: readonly ChatMessageParam[]
  /** sums[i]: the tokens of messages[0..i) */
  sums: readonly number[]
  /** the block's items are the arrays' first `length` (the arrays may grow after it was taken) */
  length: number
}

/** The thread as a prompt reads it: backwards, a page at a time (run-thread.ts). */
export type ThreadPages = {
  /**
   * Up to `limit` messages older than `before` (null: the newest), newest first; then, older
   * still, a block of messages already converted and counted; `next`: where the next page starts
   * (older than both), null at the thread's start.
   */
  page(
    before: string | null,
    limit: number,
  ): Promise<{ messages: CountedMessage[]; block?: PromptBlock; next: string | null }>
  /** keeps the counts of messages counted for the first time */
  store(counts: ReadonlyMap<string, number>): Promise<void>
  /** the prompt is built: what was read may be kept for the next one */
  end?(): void
}

/** Messages of the first page; later ones are sized to what the prompt still holds. */
export const PROMPT_PAGE = 100
/** The largest page: read, parsed and built in a few milliseconds (the loop is paced between pages). */
export const MAX_PROMPT_PAGE = 500

export type PromptInput = {
  instructions: string
  thread: ThreadPages
  steps: RunStepRow[]
  ownMessages: Map<string, MessageRecord>
  truncation: TruncationStrategy
  maxPromptTokens: number | null
  /** the tokens the model's context leaves for the prompt: `auto` fills it at most; undefined: not known */
  contextTokens?: number
  tools: unknown[]
  signal?: AbortSignal
}

/**
 * The chat conversation of one model turn of a run: the instructions, the thread (truncated per
 * the run's truncation_strategy and max_prompt_tokens), then what the run itself did so far
 * (tool calls with their outputs), so a resumed run asks the model the same question again.
 *
 * The thread is read from its newest message backwards, a page at a time, and reading stops once
 * the prompt is full: `last_messages` N stops at N messages, `auto` at the first message that
 * would take it past max_prompt_tokens or the model's context (the oldest go first, the newest
 * always stays). So building costs what the prompt holds, not what the thread holds. Each message
 * is counted once, ever: its count is stored with it (messages.token_count) the first time.
 */
export async function buildPrompt(input: PromptInput): Promise<{ messages: ChatMessageParam[]; tokens: number; fits: boolean }> {
  const { signal } = input
  const tools = input.tools as Tool[]
  const tail = input.steps.flatMap((step) => stepMessages(step, input.ownMessages))
  const system: ChatMessageParam = { role: 'system', content: input.instructions }
  const last = input.truncation.type === 'last_messages' && input.truncation.last_messages ? input.truncation.last_messages : Infinity
  const budget = input.truncation.type === 'auto' ? Math.min(input.maxPromptTokens ?? Infinity, input.contextTokens ?? Infinity) : Infinity
  // the instructions, the run's own calls, the tools and the reply's priming
  const fixed = await countChatPromptTokensAsync(input.instructions ? [system, ...tail] : tail, tools, { signal })
  let tokens = fixed
  let count = 0
  /** the prompt's thread messages in runs, newest run first, each run oldest first */
  const runs: (readonly ChatMessageParam[])[] = []
  const pacer = new Pacer()
  let before: string | null = null
  let full = false
  while (!full && count < last) {
    const page = await input.thread.page(before, pageSize(count, tokens - fixed, budget - tokens, last))
    const counted = new Map<string, number>()
    /** newest first */
    const kept: ChatMessageParam[] = []
    for (const { id, message, tokens: stored } of page.messages) {
      if (count >= last) break
      let own = stored
      if (own === null) {
        // a message alone: its framing and text, without the reply's priming
        own = (await countChatPromptTokensAsync([message], undefined, { signal })) - 3
        counted.set(id, own)
      }
      if (count && tokens + own > budget) {
        full = true
        break
      }
      kept.push(message)
      count++
      tokens += own
    }
    runs.push(kept.reverse())
    await input.thread.store(counted)
    if (page.block && !full && count < last) {
      const taken = takeNewest(page.block, Math.min(page.block.length, last - count), budget - tokens, count === 0)
      runs.push(page.block.messages.slice(page.block.length - taken.count, page.block.length))
      count += taken.count
      tokens += taken.tokens
      full = taken.full
    }
    if (page.next === null) break
    before = page.next
    // the database read is synchronous on SQLite: a long thread must not hold the loop
    await pacer.pace(signal)
  }
  input.thread.end?.()
  const kept = runs.length === 1 ? runs[0] : ([] as ChatMessageParam[]).concat(...runs.reverse())
  // an empty thread and no instructions still make a run, as at OpenAI: the model gets an empty
  // system message (a chat request needs one message at least; without it the run failed)
  const head: ChatMessageParam[] = input.instructions || (!kept.length && !input.steps.length) ? [system] : []
  if (head.length && !input.instructions) tokens += (await countChatPromptTokensAsync(head, undefined)) - 3
  return {
    messages: head.concat(kept, tail),
    tokens,
    fits: input.maxPromptTokens === null || tokens <= input.maxPromptTokens,
  }
}

/**
 * The next page's size: the last N's rest; or, against a token budget, the messages that the
 * room left holds at the thread's average so far (a page or two on PostgreSQL, where each is a
 * round trip), and a few more.
 */
function pageSize(kept: number, keptTokens: number, room: number, last: number): number {
  if (last !== Infinity) return Math.min(MAX_PROMPT_PAGE, last - kept)
  if (room === Infinity) return MAX_PROMPT_PAGE
  if (!kept) return PROMPT_PAGE
  const fits = Math.ceil((room / keptTokens) * kept * 1.1) + 1
  return Math.max(10, Math.min(MAX_PROMPT_PAGE, fits))
}

/**
 * How many of a block's newest messages the prompt takes: at most `max`, as many as `room` tokens
 * hold (the first message of the prompt always), found by bisecting the block's sums. `full`: the
 * next one would not fit.
 */
export function takeNewest(
  block: PromptBlock,
  max: number,
  room: number,
  first: boolean,
): { count: number; tokens: number; full: boolean } {
  const { sums, length: n } = block
  const total = sums[n]
  // the largest m <= max with total - sums[n - m] <= room (sums never decrease)
  let lo = 0
  let hi = max
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (total - sums[n - mid] <= room) lo = mid
    else hi = mid - 1
  }
  const count = lo === 0 && first && max > 0 ? 1 : lo
  return { count, tokens: total - sums[n - count], full: count < max }
}

/** A message of the thread as a chat message (a user's images as image parts). */
export function chatMessage(m: Pick<MessageRecord, 'role' | 'content'>): ChatMessageParam {
  const text = textOf(m.content)
  if (m.role === 'assistant') return { role: 'assistant', content: text }
  const images = m.content.filter((p) => p.type === 'image_url')
  if (!images.length) return { role: 'user', content: text }
  return {
    role: 'user',
    content: [
      ...(text ? [{ type: 'text' as const, text }] : []),
      ...images.map((p) => ({ type: 'image_url' as const, image_url: p.image_url })),
    ],
  } as ChatMessageParam
}

export function textOf(content: MessageContent[]): string {
  return content
    .map((p) =>
      p.type === 'text'
        ? p.text.value
        : p.type === 'refusal'
          ? p.refusal
          : p.type === 'image_file'
            ? `[image file ${p.image_file.file_id}]`
            : '',
    )
    .filter(Boolean)
    .join('\n')
}

function stepMessages(step: RunStepRow, own: Map<string, MessageRecord>): ChatMessageParam[] {
  const details = JSON.parse(step.step_details) as StepDetails
  if (details.type === 'message_creation') {
    const message = own.get(details.message_creation.message_id)
    return message && step.status === 'completed'
      ? [{ role: 'assistant', content: textOf(message.content) }]
      : []
  }
  if (step.status !== 'completed') return []
  // a built-in call is shown to the model as the function it called, with the result it read
  const data = stepToolData(step)
  const calls = details.tool_calls.flatMap((c) => {
    if (c.type === 'function') {
      const { name, arguments: args, output } = (c as FunctionToolCall).function
      return [{ id: c.id, name, arguments: args, output: output ?? '' }]
    }
    const call = data?.calls[c.id]
    return call ? [{ id: c.id, ...call }] : []
  })
  if (!calls.length) return []
  return [
    {
      role: 'assistant',
      content: null,
      tool_calls: calls.map((c) => ({
        id: c.id,
        type: 'function',
        function: { name: c.name, arguments: c.arguments },
      })),
    } as ChatMessageParam,
    ...calls.map((c) => ({ role: 'tool', tool_call_id: c.id, content: c.output }) as ChatMessageParam),
  ]
}
