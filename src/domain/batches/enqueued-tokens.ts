import type { Principal } from '../../principal.js'
import { Pacer } from '../../pacing.js'
import { countTokensAsync } from '../../providers/tokenizer.js'
import { parseJsonPaced } from '../../schemas/json-stream.js'
import type { BatchEndpoint, BatchError } from '../../schemas/batches.js'
import type { ChatMessageParam, Tool } from '../../schemas/chat.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'
import { countChatPromptTokensAsync } from '../inference/tokens.js'

/**
 * The project's batch queue limit (`batch_1_day_max_input_tokens`), from the rate limits
 * (domain/limits): context.ts passes these two calls of LimitsService.
 */
export type EnqueuedTokenLimit = {
  /** the limit for this project and model, or undefined when none is set */
  limitFor(projectId: string, model: string): Promise<number | undefined>
  reserve(
    principal: Principal,
    model: string,
    tokens: number,
  ): Promise<{ ok: true } | { ok: false; message: string }>
}

const PAGE = 500

/**
 * Charges a validated batch's input tokens to the project's queue limit, as OpenAI does when a
 * batch is queued. Returns the error that fails the batch when they do not fit. Tokens are
 * counted only when a limit is set: counting a large file is not free.
 */
export async function chargeEnqueuedTokens(
  storage: Storage,
  limit: EnqueuedTokenLimit | undefined,
  principal: Principal & { projectId: string },
  batchId: string,
  endpoint: BatchEndpoint,
  model: string,
): Promise<BatchError | undefined> {
  if (!limit || (await limit.limitFor(principal.projectId, model)) === undefined) return undefined
  const lines = createRepos(storage.db).batchLines
  let tokens = 0
  const pacer = new Pacer()
  for (let after = 0; ;) {
    const page = await lines.pending(batchId, after, PAGE)
    if (page.length === 0) break
    for (const line of page) {
      tokens += await inputTokens(endpoint, await parseJsonPaced(line.request))
      await pacer.pace()
    }
    after = page[page.length - 1].line_no
  }
  const charged = await limit.reserve(principal, model, tokens)
  if (charged.ok) return undefined
  return { code: 'token_limit_exceeded', message: charged.message, param: null, line: null }
}

/** The input tokens of one line's body, as usage would count them (an estimate for odd bodies). */
async function inputTokens(endpoint: BatchEndpoint, value: unknown): Promise<number> {
  const body = value as Record<string, unknown>
  try {
    if (endpoint === '/v1/chat/completions') {
      return await countChatPromptTokensAsync(
        body.messages as ChatMessageParam[],
        body.tools as Tool[] | undefined,
      )
    }
    if (endpoint === '/v1/responses') {
      const input = typeof body.input === 'string' ? body.input : JSON.stringify(body.input ?? '')
      return (await countTokensAsync(input)) + (typeof body.instructions === 'string' ? await countTokensAsync(body.instructions) : 0)
    }
    const input = endpoint === '/v1/completions' ? body.prompt : body.input
    const texts = Array.isArray(input) ? input : [input ?? '']
    let sum = 0
    for (const t of texts) sum += typeof t === 'string' ? await countTokensAsync(t) : Array.isArray(t) ? t.length : await partTokens(t)
    return sum
  } catch {
    // a body the endpoint will refuse when the line runs: roughly 4 characters a token
    return Math.ceil(JSON.stringify(body).length / 4)
  }
}

/** A token id counts one; a moderation input part its text (an image part none, as usage counts). */
async function partTokens(part: unknown): Promise<number> {
  if (typeof part !== 'object' || part === null) return 1
  const text = (part as { text?: unknown }).text
  return typeof text === 'string' ? countTokensAsync(text) : 0
}
