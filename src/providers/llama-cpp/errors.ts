import { ApiError, invalidRequest, rateLimited } from '../../errors.js'

/**
 * The errors local models add to the catalogue in src/errors.ts. Failures of the server's own
 * files or memory are 5xx with `x-should-retry: false` where retrying cannot help, so the SDKs
 * do not hammer a broken model.
 */

const noRetry = { 'x-should-retry': 'false' }

// errors.md D3, spelled once in the catalogue
export { contextLengthExceeded as contextTooLong } from '../../errors.js'

export function modelLoadFailed(id: string, file: string, reason: string) {
  return new ApiError(
    500,
    `The model \`${id}\` could not be loaded from ${file}: ${reason}`,
    'server_error',
    null,
    'model_load_failed',
    noRetry,
  )
}

export function modelTooLarge(id: string, needBytes: number, budgetBytes: number) {
  return new ApiError(
    500,
    `The model \`${id}\` needs about ${gib(needBytes)} of memory (weights and context), more than the memory budget of ${gib(budgetBytes)} (llama.memoryBudgetBytes). Raise the budget, or lower the model's contextSize or sequences.`,
    'server_error',
    null,
    'model_too_large',
    noRetry,
  )
}

/** The budget is taken by models that are serving requests right now: worth a retry. */
export function memoryBusy(id: string) {
  return new ApiError(
    503,
    `Not enough of the memory budget is free to load the model \`${id}\`: other local models are serving requests. Retry shortly.`,
    'server_error',
    null,
    'memory_budget_busy',
    { 'retry-after': '1' },
  )
}

// errors.md E1: the shape of OpenAI's request rate limit, for a full local queue
export function queueFull(id: string, waiting: number) {
  return rateLimited(
    `Too many requests for the model \`${id}\`: all of its sequences are busy and ${waiting} requests are already waiting. Retry shortly.`,
    'requests',
    1,
  )
}

/** The client went away while waiting: nobody reads this answer, but it must not look like a server fault. */
export function clientClosedRequest() {
  return new ApiError(
    499,
    'The client closed the request before it was served.',
    'invalid_request_error',
    null,
    'client_closed_request',
  )
}

export function notAnEmbeddingModel(id: string) {
  return invalidRequest(
    `The model \`${id}\` does not support embeddings.`,
    'model',
    'invalid_value',
  )
}

export function notAGenerativeModel(id: string) {
  return invalidRequest(
    `The model \`${id}\` is an embedding model and cannot generate text. Use it with v1/embeddings.`,
    'model',
    'invalid_value',
  )
}

function gib(bytes: number): string {
  return bytes >= 2 ** 30
    ? `${(bytes / 2 ** 30).toFixed(1)} GiB`
    : `${Math.ceil(bytes / 2 ** 20)} MiB`
}
