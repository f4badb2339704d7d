import { z } from 'zod'
import { ApiError } from '../../errors.js'
import type { BatchEndpoint, BatchError } from '../../schemas/batches.js'
import { parseJsonText } from '../../schemas/json-text.js'
import { pacedJson } from '../../pacing.js'
import { parseJsonPaced } from '../../schemas/json-stream.js'
import { validationError } from '../../schemas/validation.js'
import type { JsonlLine } from './jsonl.js'

/** Lines longer than this are parsed and serialized in slices. */
export const PACED_CHARS = 256 * 1024

function isBlank(text: string): boolean {
  return text.length < 1024 ? text.trim() === '' : !/\S/.test(text)
}

/** A line that passed validation: what batch_lines keeps of it. */
export type ValidLine = { line_no: number; custom_id: string; request: string }

// The envelope of a line, checked in this order: its issues become F10's
// `Missing required parameter: 'custom_id'.` and friends through the usual messages.
const LineEnvelope = z.object({
  custom_id: z.string(),
  method: z.string(),
  url: z.string(),
  body: z.record(z.string(), z.unknown()),
})

const STREAMING_NAME: Partial<Record<BatchEndpoint, string>> = {
  '/v1/chat/completions': 'Chat Completions',
  '/v1/completions': 'Completions',
  '/v1/responses': 'Responses',
}

/** Parameters a line's body must have beyond `model`, with OpenAI's wording (F10). */
const REQUIRED_BODY: Partial<Record<BatchEndpoint, [param: string, name: string]>> = {
  '/v1/chat/completions': ['messages', 'Messages'],
  '/v1/embeddings': ['input', 'Input'],
  '/v1/responses': ['input', 'Input'],
  '/v1/moderations': ['input', 'Input'],
}

const error = (
  line: number | null,
  code: string,
  message: string,
  param: string | null = null,
): BatchError => ({
  code,
  line,
  message,
  param,
})

/**
 * Checks the lines of an input file as OpenAI does before a batch runs (errors.md F10): each line
 * gets at most one error, and any error fails the whole batch. Only the envelope and what every
 * line must agree on are checked here; a body the endpoint refuses fails that line alone, when
 * it runs, as the live endpoint would answer it.
 */
export class InputValidator {
  private readonly seen = new Set<string>()
  private model: string | undefined
  count = 0

  /** The model every line names (the first valid line's). */
  get batchModel(): string | undefined {
    return this.model
  }

  constructor(
    private readonly endpoint: BatchEndpoint,
    private readonly hasModel: (model: string) => boolean,
    private readonly limits: { maxLineBytes: number },
  ) {}

  /**
   * A valid line, an error, or null for a blank line (skipped, as a trailing newline is). A line
   * may be 10 MB: it is parsed and its body serialized in slices (JsonStreamParser, pacedJson),
   * so checking it never holds the event loop for long.
   */
  async check(line: JsonlLine): Promise<ValidLine | BatchError | null> {
    const { lineNo } = line
    if (line.tooLarge !== undefined) {
      return error(
        lineNo,
        'request_too_large',
        `This line is ${line.tooLarge} bytes, above the limit of ${this.limits.maxLineBytes} bytes for one request.`,
      )
    }
    if (line.text !== undefined && isBlank(line.text)) return null
    // bytes that are not UTF-8, or an unpaired surrogate escape, are no JSON text either;
    // a long line is parsed in slices
    let value: unknown
    if (line.text !== undefined) {
      try {
        value = line.text.length <= PACED_CHARS ? parseJsonText(line.text)?.value : await parseJsonPaced(line.text)
      } catch {
        value = undefined
      }
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return error(lineNo, 'invalid_json_line', 'This line is not parseable as valid JSON.')
    }
    const envelope = LineEnvelope.safeParse(value, { reportInput: true })
    if (!envelope.success) {
      const e = validationError(envelope.error.issues)
      return error(lineNo, e.code ?? 'invalid_request', e.message, e.param)
    }
    const { custom_id, method, url, body } = envelope.data
    if (method !== 'POST') {
      // the spec's enum, in the usual invalid_value wording
      return error(
        lineNo,
        'invalid_value',
        `Invalid value: '${method}'. Supported values are: 'POST'.`,
        'method',
      )
    }
    if (url !== this.endpoint) {
      return error(
        lineNo,
        'invalid_url',
        'The URL provided for this request does not match the batch endpoint.',
        'url',
      )
    }
    if (this.seen.has(custom_id)) {
      return error(
        lineNo,
        'duplicate_custom_id',
        `The custom_id '${custom_id}' for this request is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.`,
        'custom_id',
      )
    }
    this.seen.add(custom_id)
    const bodyError = this.checkBody(body)
    if (bodyError) return { ...bodyError, line: lineNo }
    this.count++
    const request = line.text!.length <= PACED_CHARS ? JSON.stringify(body) : Buffer.concat(await pacedJson(body)).toString('utf8')
    return { line_no: lineNo, custom_id, request }
  }

  private checkBody(body: Record<string, unknown>): BatchError | undefined {
    const model = body.model
    if (typeof model !== 'string' || model === '') {
      return error(null, 'invalid_request', 'Model parameter is required.', 'body.model')
    }
    if (!this.hasModel(model)) {
      return error(
        null,
        'model_not_found',
        `The provided model '${model}' is not supported by the Batch API.`,
        'body.model',
      )
    }
    this.model ??= model
    if (model !== this.model) {
      return error(
        null,
        'mismatched_model',
        `The model '${model}' for this request does not match the rest of the batch. Each batch must contain requests for a single model.`,
        'body.model',
      )
    }
    const streaming = STREAMING_NAME[this.endpoint]
    if (streaming && body.stream === true) {
      return error(
        null,
        'streaming_unsupported',
        `${streaming}: Streaming is not supported in the Batch API.`,
        'body.stream',
      )
    }
    const required = REQUIRED_BODY[this.endpoint]
    if (required && body[required[0]] === undefined) {
      return error(
        null,
        'invalid_request',
        `${required[1]} parameter is required.`,
        `body.${required[0]}`,
      )
    }
    return undefined
  }
}

/** Problems of the file as a whole (F10 for the missing file; Plinth's wording for the others). */
export const fileErrors = {
  missing: (fileId: string, orgId: string) =>
    error(
      null,
      'invalid_request',
      `Cannot find file ${fileId}, or organization ${orgId} does not have access to it.`,
      'file_id',
    ),
  empty: () =>
    error(
      null,
      'empty_file',
      'The batch input file is empty. Please ensure that your batch contains at least one request.',
    ),
  tooManyRequests: (line: number, max: number) =>
    error(
      line,
      'too_many_requests',
      `The batch input file has more than ${max} requests, the most one batch may hold.`,
    ),
}

export function isBatchError(value: ValidLine | BatchError): value is BatchError {
  return 'code' in value
}

/** Whether an error is the 404 of a missing file (the input file was deleted meanwhile). */
export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404
}
