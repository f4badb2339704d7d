import type { FakeBehavior } from './fake-upstream.js'

/** The fake upstream's answers: OpenAI-shaped bodies and stream events built from a behaviour. */

export const FAKE_TEXT = 'Hello from the fake upstream.'

/** Deterministic embedding; values are multiples of 1/16 so float32 round trips are exact. */
export function fakeEmbedding(input: string | number[], dimensions = 8): number[] {
  const text = typeof input === 'string' ? input : input.join(',')
  let seed = 0
  for (let i = 0; i < text.length; i++) seed = (seed + text.charCodeAt(i)) % 16
  return Array.from({ length: dimensions }, (_, i) => ((seed + i) % 16) / 16)
}

const wordCache = new Map<string, string[]>()

function words(text: string): string[] {
  let cached = wordCache.get(text)
  if (!cached) {
    cached = text.match(/\s*\S+/g) ?? []
    if (wordCache.size < 100) wordCache.set(text, cached)
  }
  return cached
}

function usageOf(body: any, b: FakeBehavior, completionTokens: number) {
  const u = b.usage ?? { prompt_tokens: 7, cached_tokens: 2 }
  const completion = u.completion_tokens ?? completionTokens
  return {
    prompt_tokens: u.prompt_tokens,
    completion_tokens: completion,
    total_tokens: u.prompt_tokens + completion,
    prompt_tokens_details: { cached_tokens: u.cached_tokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: u.reasoning_tokens ?? 0 },
  }
}

function chatBase(body: any, object: string) {
  return {
    id: 'chatcmpl-fake',
    object,
    created: 1_700_000_000,
    model: body?.model ?? 'fake-model',
    system_fingerprint: 'fp_fake',
  }
}

function tokenLogprob(token: string) {
  const bytes = Array.from(Buffer.from(token, 'utf8'))
  return { token, logprob: -0.5, bytes, top_logprobs: [{ token, logprob: -0.5, bytes }] }
}

export function chatEvents(body: any, b: FakeBehavior): unknown[] {
  const n = body?.n ?? 1
  const base = chatBase(body, 'chat.completion.chunk')
  const events: unknown[] = []
  const choice = (index: number, delta: unknown, extra: Record<string, unknown> = {}) => ({
    ...base,
    choices: [{ index, delta, logprobs: null, finish_reason: null, ...extra }],
  })
  for (let c = 0; c < n; c++) {
    if (b.toolCalls) {
      b.toolCalls.forEach((call, index) => {
        const half = Math.ceil(call.arguments.length / 2)
        const first = {
          index,
          id: call.id,
          type: 'function',
          function: { name: call.name, arguments: call.arguments.slice(0, half) },
        }
        events.push(
          choice(
            c,
            index === 0
              ? { role: 'assistant', content: null, tool_calls: [first] }
              : { tool_calls: [first] },
          ),
        )
        events.push(
          choice(c, {
            tool_calls: [{ index, function: { arguments: call.arguments.slice(half) } }],
          }),
        )
      })
    } else {
      words(b.text ?? FAKE_TEXT).forEach((word, i) => {
        const logprobs = body?.logprobs
          ? { logprobs: { content: [tokenLogprob(word)], refusal: null } }
          : {}
        events.push(
          choice(c, i === 0 ? { role: 'assistant', content: word } : { content: word }, logprobs),
        )
      })
    }
    events.push(
      choice(c, {}, { finish_reason: b.finishReason ?? (b.toolCalls ? 'tool_calls' : 'stop') }),
    )
  }
  if (body?.stream_options?.include_usage)
    events.push({
      ...base,
      choices: [],
      usage: usageOf(body, b, words(b.text ?? FAKE_TEXT).length * n),
    })
  return events
}

export function chatCompletion(body: any, b: FakeBehavior) {
  const text = b.text ?? FAKE_TEXT
  const n = body?.n ?? 1
  const message = b.toolCalls
    ? {
        role: 'assistant',
        content: null,
        refusal: null,
        tool_calls: b.toolCalls.map((c) => ({
          id: c.id,
          type: 'function',
          function: { name: c.name, arguments: c.arguments },
        })),
      }
    : { role: 'assistant', content: text, refusal: null }
  return {
    ...chatBase(body, 'chat.completion'),
    choices: Array.from({ length: n }, (_, index) => ({
      index,
      message,
      logprobs: body?.logprobs ? { content: words(text).map(tokenLogprob), refusal: null } : null,
      finish_reason: b.finishReason ?? (b.toolCalls ? 'tool_calls' : 'stop'),
    })),
    usage: usageOf(body, b, words(text).length * n),
  }
}

/** `unscored`: the first token is an echoed prompt's first, which OpenAI gives no probability. */
function legacyLogprobs(tokens: string[], offset: number, unscored = false) {
  let at = offset
  const text_offset = tokens.map((t) => ((at += t.length), at - t.length))
  return {
    tokens,
    token_logprobs: tokens.map((_, i) => (unscored && i === 0 ? null : -0.25)),
    top_logprobs: tokens.map((t, i) => (unscored && i === 0 ? null : { [t]: -0.25 })),
    text_offset,
  }
}

/** An upstream that honours `echo` (OpenAI's davinci-002, vLLM): the prompt, then the answer. */
function echoed(body: any): string {
  return body?.echo && typeof body.prompt === 'string' ? body.prompt : ''
}

export function completionEvents(body: any, b: FakeBehavior): unknown[] {
  const base = { ...chatBase(body, 'text_completion'), id: 'cmpl-fake' }
  const n = body?.n ?? 1
  const events: unknown[] = []
  for (let c = 0; c < n; c++) {
    let offset = 0
    const prompt = echoed(body)
    if (prompt) {
      const logprobs = body?.logprobs != null ? legacyLogprobs(words(prompt), 0, true) : null
      events.push({ ...base, choices: [{ text: prompt, index: c, logprobs, finish_reason: null }] })
      offset = prompt.length
    }
    for (const word of words(b.text ?? FAKE_TEXT)) {
      const logprobs = body?.logprobs != null ? legacyLogprobs([word], offset) : null
      offset += word.length
      events.push({ ...base, choices: [{ text: word, index: c, logprobs, finish_reason: null }] })
    }
    events.push({
      ...base,
      choices: [{ text: '', index: c, logprobs: null, finish_reason: b.finishReason ?? 'stop' }],
    })
  }
  if (body?.stream_options?.include_usage)
    events.push({
      ...base,
      choices: [],
      usage: usageOf(body, b, words(b.text ?? FAKE_TEXT).length * n),
    })
  return events
}

export function textCompletion(body: any, b: FakeBehavior) {
  const prompt = echoed(body)
  const text = prompt + (b.text ?? FAKE_TEXT)
  const n = body?.n ?? 1
  return {
    ...chatBase(body, 'text_completion'),
    id: 'cmpl-fake',
    choices: Array.from({ length: n }, (_, index) => ({
      text,
      index,
      logprobs: body?.logprobs != null ? legacyLogprobs([...words(prompt), ...words(b.text ?? FAKE_TEXT)], 0, prompt !== '') : null,
      finish_reason: b.finishReason ?? 'stop',
    })),
    usage: usageOf(body, b, words(b.text ?? FAKE_TEXT).length * n),
  }
}

export function embeddings(body: any) {
  const input = body?.input
  const list: (string | number[])[] =
    typeof input === 'string' || typeof input?.[0] === 'number' ? [input] : (input ?? [])
  const data = list.map((item, index) => {
    const vector = fakeEmbedding(item, body?.dimensions ?? 8)
    const embedding =
      body?.encoding_format === 'base64'
        ? Buffer.from(new Float32Array(vector).buffer).toString('base64')
        : vector
    return { object: 'embedding', index, embedding }
  })
  const tokens = list.reduce<number>(
    (sum, item) => sum + (typeof item === 'string' ? words(item).length : item.length),
    0,
  )
  return {
    object: 'list',
    data,
    model: body?.model ?? 'fake-model',
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  }
}
