import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { ApiError, internal, ProviderError, upstreamFailed } from '../../errors.js'
import { jobLog } from '../../logger.js'
import type { ProjectPrincipal } from '../../principal.js'
import type { BatchEndpoint, BatchOutputLine } from '../../schemas/batches.js'
import { ChatCompletionCreateParams } from '../../schemas/chat.js'
import { CompletionCreateParams } from '../../schemas/completions.js'
import { EmbeddingCreateParams } from '../../schemas/embeddings.js'
import { ModerationCreateParams } from '../../schemas/moderations.js'
import { validate } from '../../schemas/validation.js'
import { isSmallJson, pacedJson } from '../../pacing.js'
import { parseJsonPaced } from '../../schemas/json-stream.js'
import { newId } from '../../storage/ids.js'
import type { LineResult } from '../../storage/repositories/batches.js'
import type { ChatService } from '../inference/chat.js'
import type { CompletionsService } from '../inference/completions.js'
import type { EmbeddingsService } from '../inference/embeddings.js'
import type { ModerationsService } from '../inference/moderations.js'
import { ResponseCreateParams } from '../../schemas/responses.js'
import { backgroundInBatch } from '../../errors.js'
import type { ResponsesService } from '../responses/service.js'
import type { UsageEntry, UsageSink } from '../inference/usage.js'
import { PACED_CHARS } from './validate-input.js'

/** The live endpoints' services: batch lines run through the same code. */
export type Inference = {
  chat: ChatService
  completions: CompletionsService
  embeddings: EmbeddingsService
  /** `/v1/responses` lines (context.ts hands it in once the Responses service exists) */
  responses?: Pick<ResponsesService, 'create'>
  moderations?: Pick<ModerationsService, 'create'>
}

export type PendingLine = { line_no: number; custom_id: string; request: string }

/**
 * A line's result and the usage of the model calls behind it (a retried call that had started
 * counts too, as it would live). The usage is not recorded yet: it is written in the transaction
 * that saves the result, so a saved line is billed once and a line lost in a crash not at all.
 */
export type LineOutcome = LineResult & { usage: UsageEntry[] }

/** A busy or failing backend gets this many more tries before the line fails. */
const RETRIES = 2
const RETRY_BASE_MS = 500
const TRANSIENT = new Set([429, 502, 503, 504])

/**
 * Runs one line as its endpoint would answer it live (same validation, same service, usage
 * with the batch flag) and returns its output line with its usage. Returns undefined when
 * `signal` stopped it: the line stays pending, unbilled, and runs again if the batch goes on.
 */
export async function executeLine(
  inference: Inference,
  principal: ProjectPrincipal,
  endpoint: BatchEndpoint,
  line: PendingLine,
  signal: AbortSignal,
): Promise<LineOutcome | undefined> {
  const requestId = 'req_' + randomUUID().replace(/-/g, '')
  // an answer can be large (2048 embeddings are 30 MB of JSON): serialized in slices then
  const output = async (response: BatchOutputLine['response']): Promise<string> => {
    const outputLine = { id: newId('batch_req_'), custom_id: line.custom_id, response, error: null } satisfies BatchOutputLine
    return isSmallJson(outputLine) ? JSON.stringify(outputLine) : Buffer.concat(await pacedJson(outputLine)).toString('utf8')
  }
  const usage: UsageEntry[] = []
  const usageSink: UsageSink = (entry) => void usage.push(entry)
  // a long request is parsed in slices, and validated stopping at its first fatal issue
  const long = line.request.length > PACED_CHARS
  for (let attempt = 0; ; attempt++) {
    try {
      const request = long ? await parseJsonPaced(line.request, signal) : JSON.parse(line.request)
      const body = await call(inference, principal, endpoint, request, { signal, requestId, usageSink }, long)
      const response = { status_code: 200, request_id: requestId, body }
      return { line_no: line.line_no, status: 'completed', result: await output(response), usage }
    } catch (error) {
      if (signal.aborted) return undefined
      const apiError = toLineError(error, requestId)
      if (attempt < RETRIES && TRANSIENT.has(apiError.status)) {
        const delay = RETRY_BASE_MS * 2 ** attempt
        if (!(await sleep(delay, true, { signal }).catch(() => false))) return undefined
        continue
      }
      const response = {
        status_code: apiError.status,
        request_id: requestId,
        body: apiError.toBody(),
      }
      return { line_no: line.line_no, status: 'failed', result: await output(response), usage }
    }
  }
}

function call(
  inference: Inference,
  principal: ProjectPrincipal,
  endpoint: BatchEndpoint,
  body: unknown,
  options: { signal: AbortSignal; requestId: string; usageSink: UsageSink },
  long: boolean,
): Promise<unknown> {
  const style = { legacyUnknownArgument: true, abortEarly: long }
  const batchOptions = { ...options, batch: true }
  switch (endpoint) {
    case '/v1/chat/completions':
      return inference.chat.create(
        principal,
        validate(ChatCompletionCreateParams, body, style),
        batchOptions,
      )
    case '/v1/completions':
      return inference.completions.create(
        principal,
        validate(CompletionCreateParams, body, style),
        batchOptions,
      )
    case '/v1/embeddings':
      return inference.embeddings.create(
        principal,
        validate(EmbeddingCreateParams, body, style),
        batchOptions,
      )
    case '/v1/responses': {
      const params = validate(ResponseCreateParams, body, style)
      // a line is answered whole, in the batch's own time: it cannot run in the background too
      if (params.background) throw backgroundInBatch()
      if (!inference.responses) throw new Error('batches do not run /v1/responses here')
      return inference.responses.create(principal, params, batchOptions)
    }
    case '/v1/moderations':
      if (!inference.moderations) throw new Error('batches do not run /v1/moderations here')
      return inference.moderations.create(
        principal,
        validate(ModerationCreateParams, body, style),
        batchOptions,
      )
    default:
      throw new Error(`batches do not run ${endpoint}`)
  }
}

/** What the live endpoint would have answered (http/render-error.ts does the same there). */
function toLineError(error: unknown, requestId: string): ApiError {
  if (error instanceof ApiError) return error
  if (error instanceof ProviderError) return upstreamFailed(error)
  jobLog.error({ err: error, requestId }, 'batch line failed unexpectedly')
  return internal(requestId, error)
}
