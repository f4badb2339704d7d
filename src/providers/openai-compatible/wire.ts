/**
 * What OpenAI-compatible servers send, typed loosely: every field is optional because Ollama,
 * vLLM and llama.cpp each leave out different ones.
 */

export type WireUsage = {
  prompt_tokens?: number | null
  completion_tokens?: number | null
  prompt_tokens_details?: { cached_tokens?: number | null } | null
  completion_tokens_details?: { reasoning_tokens?: number | null } | null
}

export type WireTokenLogprob = {
  token: string
  logprob: number
  bytes?: number[] | null
  top_logprobs?: { token: string; logprob: number; bytes?: number[] | null }[] | null
}

export type WireToolCall = {
  index?: number
  id?: string | null
  type?: string
  function?: { name?: string | null; arguments?: string | null } | null
}

export type WireChatChoice = {
  index?: number
  delta?: WireChatMessage | null
  message?: WireChatMessage | null
  logprobs?: { content?: WireTokenLogprob[] | null; refusal?: WireTokenLogprob[] | null } | null
  finish_reason?: string | null
}

export type WireChatMessage = {
  role?: string
  content?: string | null
  refusal?: string | null
  tool_calls?: WireToolCall[] | null
}

export type WireLegacyLogprobs = {
  tokens?: string[] | null
  token_logprobs?: (number | null)[] | null
  top_logprobs?: (Record<string, number> | null)[] | null
  text_offset?: number[] | null
}

export type WireCompletionChoice = {
  index?: number
  text?: string | null
  logprobs?: WireLegacyLogprobs | null
  finish_reason?: string | null
}

export type WireChatChunk = {
  choices?: WireChatChoice[] | null
  usage?: WireUsage | null
  error?: unknown
}

export type WireCompletionChunk = {
  choices?: WireCompletionChoice[] | null
  usage?: WireUsage | null
  error?: unknown
}

export type WireEmbeddings = {
  data?: { index?: number; embedding: number[] | string }[]
  usage?: { prompt_tokens?: number | null } | null
}
