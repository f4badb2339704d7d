/**
 * The one error type of the API and the catalogue of every error it returns.
 * Messages are spelled here only; their exact wording follows what api.openai.com returns
 * (see ../shared/openapi/errors.md, cited by case number).
 */
export type ErrorBody = {
  error: { message: string; type: string; param: string | null; code: string | null }
}

export class ApiError extends Error {
  override name = 'ApiError'
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly headers: Record<string, string> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }

  toBody(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } }
  }
}

/** A failure reported by a model backend; the renderer maps it to an OpenAI-shaped error. */
export class ProviderError extends Error {
  override name = 'ProviderError'
  constructor(
    readonly status: number,
    message: string,
    readonly body?: ErrorBody['error'],
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

const HELP = 'help.openai.com'

export function invalidRequest(message: string, param: string | null = null, code: string | null = null) {
  return new ApiError(400, message, 'invalid_request_error', param, code)
}

// C1
export function invalidJson() {
  return invalidRequest(
    `We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at ${HELP}.)`,
  )
}

// C2
export function unrecognizedArgument(name: string) {
  return invalidRequest(`Unrecognized request argument supplied: ${name}`)
}

// C16, for parameters a model cannot honour
export function unsupportedParameter(param: string, hint = '') {
  return invalidRequest(
    `Unsupported parameter: '${param}' is not supported with this model.${hint ? ' ' + hint : ''}`,
    param,
    'unsupported_parameter',
  )
}

// C17
export function unsupportedValue(param: string, message: string) {
  return invalidRequest(`Unsupported value: '${param}' ${message}`, param, 'unsupported_value')
}

// A1
/**
 * Where a Plinth key comes from, said where OpenAI's messages send users to its platform (the
 * rest of each message is OpenAI's wording, for clients that match on it).
 */
const KEY_HELP = 'Plinth keys are printed on its first start; make more with `npx plinth keys create` on the server, or in the dashboard (/dashboard).'

export function missingApiKey() {
  return new ApiError(
    401,
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from your Plinth server: " + KEY_HELP,
  )
}

/** Section 1 of errors.md: keep the first 8 and last 4 characters, star the rest. */
export function maskKey(key: string): string {
  if (key.length <= 12) return key
  return key.slice(0, 8) + '*'.repeat(key.length - 12) + key.slice(-4)
}

// A3
export function invalidApiKey(key: string) {
  return new ApiError(
    401,
    `Incorrect API key provided: ${maskKey(key)}. You can find your API key at your Plinth server: ${KEY_HELP}`,
    'invalid_request_error',
    null,
    'invalid_api_key',
  )
}

export function archivedProjectKey(projectId: string) {
  return new ApiError(
    401,
    `The project ${projectId} for this API key is archived. Keys of archived projects cannot be used.`,
    'invalid_request_error',
    null,
    'invalid_api_key',
  )
}

// A4
export function mismatchedOrganization() {
  return new ApiError(
    401,
    'OpenAI-Organization header should match organization for API key',
    'invalid_request_error',
    null,
    'mismatched_organization',
  )
}

// A5
export function noSuchOrganization(id: string) {
  return new ApiError(401, `No such organization: ${id}.`, 'invalid_request_error', null, 'invalid_organization')
}

// A8
export function mismatchedProject() {
  return new ApiError(
    401,
    'OpenAI-Project header should match project for API key',
    'invalid_request_error',
    null,
    'mismatched_project',
  )
}

export function permissionDenied(message: string, code: string | null = null) {
  return new ApiError(403, message, 'invalid_request_error', null, code)
}

// A9
export function projectModelDenied(projectId: string, model: string) {
  return new ApiError(
    403,
    `Project \`${projectId}\` does not have access to model \`${model}\``,
    'invalid_request_error',
    null,
    'model_not_found',
  )
}

/** 404 for a missing object; `what` is the phrase OpenAI uses, e.g. "chat completion". */
export function notFound(what: string, id: string, param: string | null = null) {
  return new ApiError(404, `No ${what} found with id '${id}'.`, 'invalid_request_error', param, null)
}

// F1
export function fileNotFound(id: string) {
  return new ApiError(404, `No such File object: ${id}`, 'invalid_request_error', 'id', null)
}

// D1
export function modelNotFound(model: string) {
  return new ApiError(
    404,
    `The model \`${model}\` does not exist or you do not have access to it.`,
    'invalid_request_error',
    null,
    'model_not_found',
  )
}

/** A model used on an endpoint it does not serve. OpenAI answers 404 (not 400), param 'model'. */
export function notAChatModel() {
  return new ApiError(
    404,
    'This is not a chat model and thus not supported in the v1/chat/completions endpoint. Did you mean to use v1/completions?',
    'invalid_request_error',
    'model',
  )
}

export function notACompletionsModel(model: string, isChatModel: boolean) {
  return new ApiError(
    404,
    isChatModel
      ? 'This is a chat model and not supported in the v1/completions endpoint. Did you mean to use v1/chat/completions?'
      : `The model \`${model}\` is not supported in the v1/completions endpoint.`,
    'invalid_request_error',
    'model',
  )
}

/** A model that exists but does not chat (an embeddings model) given to an assistant or a run. */
export function unsupportedAssistantModel(model: string) {
  return invalidRequest(`The requested model '${model}' cannot be used with the Assistants API.`, 'model', 'unsupported_model')
}

// B1, B2
export function invalidUrl(method: string, path: string) {
  return new ApiError(404, `Invalid URL (${method} ${path})`)
}

/** An operation of the spec that Plinth does not serve yet; clients must not retry it. */
export function notImplemented(method: string, path: string, operationId: string) {
  return new ApiError(
    501,
    `Plinth does not implement ${method} ${path} (${operationId}) yet. Run \`npm run conformance\` for the list of what is served.`,
    'invalid_request_error',
    null,
    'not_implemented',
    { 'x-should-retry': 'false' },
  )
}

export function conflict(message: string) {
  return new ApiError(409, message, 'invalid_request_error')
}

// F4
export function bodyTooLarge(limit: number, read: number) {
  return new ApiError(413, `Maximum content size limit (${limit}) exceeded (${read} bytes read)`, 'server_error')
}

// F2: file uploads still answer with the older JSON-schema wording (param and code null)
export function invalidPurpose(purpose: string, allowed: readonly string[]) {
  return invalidRequest(`'${purpose}' is not one of [${allowed.map((p) => `'${p}'`).join(', ')}] - 'purpose'`)
}

// F3, C6: a missing form field, in the same generation of messages as F2
export function requiredProperty(name: string) {
  return invalidRequest(`'${name}' is a required property`)
}

// F5, and the same check for fine-tuning files
export function invalidFileFormat(api: 'Batch' | 'Fine-Tuning') {
  return invalidRequest(`Invalid file format for ${api} API. Must be .jsonl`)
}

// F9
export function batchNotFound(id: string) {
  return notFound('batch', id)
}

// F8. A 409 is retried by the official SDKs unless told otherwise, and retrying cannot help.
export function batchNotCancellable(status: string) {
  return new ApiError(409, `Cannot cancel a batch with status '${status}'.`, 'invalid_request_error', null, null, {
    'x-should-retry': 'false',
  })
}

// OpenAI's texts for these batch input problems are not known (errors.md 2.6 "Not found"); these
// are Plinth's, in the style of F6 and C14.

export function batchInputWrongPurpose(fileId: string, purpose: string) {
  return invalidRequest(
    `Invalid 'input_file_id': file ${fileId} has purpose '${purpose}', but a batch's input file must be uploaded with purpose 'batch'.`,
    'input_file_id',
    'invalid_value',
  )
}

export function batchInputTooLarge(fileId: string, bytes: number, max: number) {
  return invalidRequest(
    `Invalid 'input_file_id': file ${fileId} has ${bytes} bytes, above the limit of ${max} bytes for a batch's input file.`,
    'input_file_id',
    'invalid_value',
  )
}

export function batchEndpointNotServed(endpoint: string) {
  return invalidRequest(
    `Plinth does not serve ${endpoint} yet, so batches cannot use it. Supported values here are: '/v1/chat/completions', '/v1/completions', and '/v1/embeddings'.`,
    'endpoint',
    'invalid_value',
  )
}

// C3, for a multipart field the operation does not take
export function unexpectedFormField(name: string) {
  return invalidRequest(`Unknown parameter: '${name}'.`, name, 'unknown_parameter')
}

// OpenAI's texts for malformed multipart bodies and for the Uploads API are not known
// (errors.md 2.6); these are Plinth's, in the style of the nearest known ones (G10, F8).

export function invalidMultipart(detail: string) {
  return invalidRequest(`Could not parse the multipart form data in your request: ${detail}.`)
}

export function uploadNotPending(action: 'add parts to' | 'complete' | 'cancel', id: string, status: string) {
  return invalidRequest(`Cannot ${action} upload ${id} with status '${status}'.`)
}

export function uploadUnknownPart(partId: string, uploadId: string) {
  return invalidRequest(`No part found with id '${partId}' in upload ${uploadId}.`, 'part_ids')
}

export function uploadRepeatedPart(partId: string) {
  return invalidRequest(`Part '${partId}' appears more than once in part_ids.`, 'part_ids')
}

export function uploadSizeMismatch(uploadId: string, declared: number, actual: number) {
  return invalidRequest(
    `The parts of upload ${uploadId} add up to ${actual} bytes, but the upload was created with bytes=${declared}.`,
    'part_ids',
  )
}

export function uploadChecksumMismatch(given: string, actual: string) {
  return invalidRequest(`The md5 of the uploaded bytes is ${actual}, which does not match the md5 given (${given}).`, 'md5')
}

export function uploadFull(uploadId: string, max: number) {
  return invalidRequest(`Upload ${uploadId} cannot take this part: its parts would add up to more than ${max} bytes.`, 'data')
}

export function rangeNotSatisfiable(size: number) {
  return new ApiError(416, `The requested range is not satisfiable: the file has ${size} bytes.`, 'invalid_request_error', null, null, {
    'content-range': `bytes */${size}`,
  })
}

// E1, E2
export function rateLimited(
  message: string,
  type: string,
  retryAfterSeconds: number,
  headers: Record<string, string> = {},
) {
  return new ApiError(429, message, type, null, 'rate_limit_exceeded', {
    ...headers,
    'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))),
    'retry-after-ms': String(Math.max(1, Math.ceil(retryAfterSeconds * 1000))),
  })
}

// where OpenAI links its rate limits page: this server's own (GET /v1/organization/projects/{id}/rate_limits)
const RATE_LIMITS_HELP = "See this project's limits on Plinth's dashboard at /dashboard, or with GET /v1/organization/projects/PROJECT_ID/rate_limits."

/**
 * E1 (requests per min), E2 (tokens per min), and the same wording for the other limits.
 * `what` is e.g. 'requests per min (RPM)'; `wait` a Go-style duration ('26.604s', '644ms').
 */
/**
 * OpenAI's out-of-credit 429 (errors.md E4), which Plinth answers once a hard spend limit is
 * reached. Not a rate limit: retrying does not help until the limit is raised.
 */
export function insufficientQuota() {
  return new ApiError(
    429,
    'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
    'insufficient_quota',
    null,
    'insufficient_quota',
    // the SDKs would otherwise retry a 429 twice, in vain
    { 'x-should-retry': 'false' },
  )
}

export function rateLimitReached(
  limit: { model: string; orgId: string; what: string; type: string },
  counts: { limit: number; used: number; requested: number },
  wait: string,
  waitSeconds: number,
  headers: Record<string, string> = {},
) {
  return rateLimited(
    `Rate limit reached for ${limit.model} in organization ${limit.orgId} on ${limit.what}: Limit ${counts.limit}, Used ${counts.used}, Requested ${counts.requested}. Please try again in ${wait}. ${RATE_LIMITS_HELP}`,
    limit.type,
    waitSeconds,
    headers,
  )
}

/**
 * A request that asks for more than a whole window holds can never pass: OpenAI's "Request too
 * large" 429. Retrying cannot help, so the SDKs are told not to.
 */
export function requestTooLarge(
  limit: { model: string; orgId: string; what: string; type: string },
  counts: { limit: number; requested: number },
  headers: Record<string, string> = {},
) {
  return new ApiError(
    429,
    `Request too large for ${limit.model} in organization ${limit.orgId} on ${limit.what}: Limit ${counts.limit}, Requested ${counts.requested}. The input or output tokens must be reduced in order to run successfully. ${RATE_LIMITS_HELP}`,
    limit.type,
    null,
    'rate_limit_exceeded',
    { ...headers, 'x-should-retry': 'false' },
  )
}

// D3: the prompt alone is over the model's context window
export function contextLengthExceeded(max: number, tokens: number, param = 'messages') {
  return invalidRequest(
    `This model's maximum context length is ${max} tokens. However, your messages resulted in ${tokens} tokens. Please reduce the length of the messages.`,
    param,
    'context_length_exceeded',
  )
}

// D4: the prompt and the completion asked for together are over the window
export function contextAndCompletionExceeded(max: number, prompt: number, completion: number) {
  return invalidRequest(
    `This model's maximum context length is ${max} tokens. However, you requested ${prompt + completion} tokens (${prompt} in the messages, ${completion} in the completion). Please reduce the length of the messages or completion.`,
    'messages',
    'context_length_exceeded',
  )
}

/**
 * The older wording, which the legacy completions endpoint still answers with (embeddings did
 * too until 2024, sugarforever/chat-ollama#130; now embeddingInputTooLong).
 */
export function promptContextExceeded(max: number, prompt: number, completion: number, param: string | null = null) {
  return invalidRequest(
    `This model's maximum context length is ${max} tokens, however you requested ${prompt + completion} tokens (${prompt} in your prompt; ${completion} for the completion). Please reduce your prompt; or completion length.`,
    param,
    'context_length_exceeded',
  )
}

/**
 * An embedding input over the model's context, in OpenAI's current words (2026):
 * `Invalid 'input[55]': maximum input length is 8192 tokens.` (quoted from OpenAI in several
 * projects, e.g. a litellm-based test fixture for text-embedding-3-small). The path names the
 * item; a lone string is `input`. No full body was found: `param` is the path, as in every
 * `Invalid '<path>'` error, and `code` stays null as in the older full bodies
 * (databendlabs-x/askbend#86, sbintuitions/JMTEB#15).
 */
export function embeddingInputTooLong(param: string, max: number) {
  return invalidRequest(`Invalid '${param}': maximum input length is ${max} tokens.`, param)
}

// D5 (the 2025 code)
export function maxTokensTooLarge(param: 'max_tokens' | 'max_completion_tokens', requested: number, max: number) {
  return invalidRequest(
    `${param} is too large: ${requested}. This model supports at most ${max} completion tokens, whereas you provided ${requested}.`,
    param,
    'invalid_value',
  )
}

/** Embeddings: 300,000 tokens summed over a request's inputs (langchain-ai/langchain#31227, CrackSQL#27). */
export function embeddingTokensPerRequest(requested: number, max: number) {
  return new ApiError(400, `Requested ${requested} tokens, max ${max} tokens per request`, 'max_tokens_per_request', null, 'max_tokens_per_request')
}

/** Plinth's own bound on a non-streamed answer's log probabilities (docs/models.md). */
export function answerLogprobsTooLarge(max: number) {
  return invalidRequest(
    `The answer's log probabilities are over the limit of ${max} entries (n × completion tokens × (1 + top_logprobs)). Lower 'n', 'max_completion_tokens' or 'top_logprobs', or stream the answer.`,
    'logprobs',
    'invalid_value',
  )
}

/** The same bound on a response's log probabilities, in the Responses request's words. */
export function responseLogprobsTooLarge(max: number) {
  return invalidRequest(
    `The response's log probabilities are over the limit of ${max} entries (output tokens × (1 + top_logprobs)). Lower 'max_output_tokens' or 'top_logprobs'.`,
    'top_logprobs',
    'invalid_value',
  )
}

// I3, for a full local queue or an overloaded backend
export function overloaded(requestId: string) {
  return new ApiError(
    503,
    `That model is currently overloaded with other requests. You can retry your request, or contact us through our help center at ${HELP} if the error persists. (Please include the request ID ${requestId} in your message.)`,
    'server_error',
  )
}

export function upstreamFailed(cause: ProviderError) {
  if (cause.body && cause.status >= 400 && cause.status < 500) {
    const b = cause.body
    return new ApiError(cause.status, b.message, b.type || 'invalid_request_error', b.param ?? null, b.code ?? null, {}, { cause })
  }
  const status = cause.status === 504 ? 504 : cause.status === 503 ? 503 : 502
  const message = cause.body?.message
    ? `The upstream model server returned an error: ${cause.body.message}`
    : `The upstream model server failed: ${cause.message}`
  return new ApiError(status, message, 'server_error', null, null, {}, { cause })
}

// I1
export function internal(requestId: string, cause?: unknown) {
  return new ApiError(
    500,
    `The server had an error processing your request. Sorry about that! You can retry your request, or contact us through our help center at ${HELP} if you keep seeing this error. (Please include the request ID ${requestId} in your email.)`,
    'server_error',
    null,
    null,
    {},
    { cause },
  )
}

// Key permissions and roles. OpenAI answers a missing scope with 401 (not 403), type
// invalid_request_error, code null, and this text (continuedev/continue#10059 full body with
// api.responses.write; microsoft/PowerToys#32989 with model.request and its 401 status;
// bytedance/trae-agent#162; marcusquinn/aidevops#24564 shows api.model.read for GET /v1/models).
export function insufficientPermissions(scopes: readonly string[]) {
  return new ApiError(
    401,
    `You have insufficient permissions for this operation. Missing scopes: ${scopes.join(', ')}. Check that you have the correct role in your organization (Reader, Writer, Owner) and project (Member, Owner), and if you're using a restricted API key, that it has the necessary scopes.`,
    'invalid_request_error',
    null,
    null,
  )
}

// The Administration API. OpenAI's texts for these are not known (errors.md has none); these
// are Plinth's, in the style of the nearest known ones (G10, F8, notFound).

/** The spec: archived projects "cannot be used or updated"; its 400s cover users and accounts. */
/** OpenAI's answer to any change of an archived project (archiving it again included). */
export function projectArchived(projectId: string) {
  return invalidRequest(
    `Project '${projectId}' is archived. You can only update an active project.`,
    null,
    'project_archived',
  )
}

export function lastOwner() {
  return invalidRequest('The organization must keep at least one owner.', 'role')
}

export function alreadyMember(email: string) {
  return invalidRequest(`${email} is already a member of this organization.`, 'email')
}

export function invitePending(email: string) {
  return invalidRequest(`An invite for ${email} is already pending.`, 'email')
}

/** The spec: "If the invite has already been accepted, it cannot be deleted." */
export function inviteAccepted(id: string) {
  return invalidRequest(`Invite ${id} has already been accepted and cannot be deleted.`)
}

export function inviteNotAcceptable(id: string, status: 'accepted' | 'expired') {
  return invalidRequest(status === 'accepted' ? `Invite ${id} has already been accepted.` : `Invite ${id} has expired. Ask for a new invite.`)
}

export function invalidInviteToken() {
  return new ApiError(401, 'This invite token is not valid. Ask an owner of the organization for a new invite.', 'invalid_request_error', null, 'invalid_invite_token')
}

export function alreadyInProject(userId: string, projectId: string) {
  return invalidRequest(`User ${userId} is already a member of project ${projectId}.`, 'user_id')
}

export function serviceAccountKey(keyId: string) {
  return invalidRequest(`API key ${keyId} belongs to a service account. Delete the service account to revoke it.`)
}

// The Certificates API: Plinth's texts (OpenAI's are not known), in the style of the ones above.

export function missingParameter(param: string) {
  return invalidRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter')
}

export function invalidCertificate(detail: string) {
  return invalidRequest(
    `Invalid certificate: ${detail}. Upload one X.509 certificate in PEM format, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----.`,
    'certificate',
  )
}

/** The spec: "Organizations can upload up to 50 certificates." */
export function certificateLimit(max: number) {
  return invalidRequest(`Organizations can upload up to ${max} certificates. Delete one before uploading another.`, 'certificate')
}

/** The spec: "The certificate must be inactive for the organization and all projects." */
export function certificateStillActive(id: string) {
  return invalidRequest(`Certificate ${id} is still active. Deactivate it for the organization and every project before deleting it.`)
}

/** Mutual TLS (http/client-certificate.ts): the proxy forwarded no readable certificate. */
export function clientCertificateRequired() {
  return new ApiError(
    401,
    'This organization or project requires a client certificate (mutual TLS), and the request presented none. Connect with one of the certificates active for the organization or the project.',
    'invalid_request_error',
    null,
    'client_certificate_required',
  )
}

/** Mutual TLS: a certificate that is not active for the key's organization or project. */
export function clientCertificateNotActive(fingerprint: string) {
  return permissionDenied(
    `The client certificate presented (SHA-256 ${fingerprint}) is not active for this organization or project. Activate it with POST /v1/organization/certificates/activate (or the project's), or connect with an active one.`,
    'client_certificate_not_active',
  )
}

// The Assistants API (errors.md 2.7). Texts marked "Plinth's" are not known from OpenAI; they
// follow the style of the nearest known ones.

const BETA_HINT = "Please try again by setting the header 'OpenAI-Beta: assistants=v2'."

// G1
export function betaHeaderMissing() {
  return new ApiError(
    400,
    `You must provide the 'OpenAI-Beta' header to access the Assistants API. ${BETA_HINT}`,
    'invalid_request_error',
    null,
    'invalid_beta',
  )
}

// Plinth's, in G1's and G2's style: an OpenAI-Beta value that names no version of the beta
export function betaHeaderInvalid(value: string) {
  return new ApiError(
    400,
    `Invalid value for the 'OpenAI-Beta' header: '${value}'. The Assistants API takes 'assistants=v1' or 'assistants=v2'. ${BETA_HINT}`,
    'invalid_request_error',
    null,
    'invalid_beta',
  )
}

// G3
export function assistantNotFound(id: string) {
  return notFound('assistant', id)
}

// G4
export function threadNotFound(id: string) {
  return notFound('thread', id)
}

// by analogy with G3 and G4
export function messageNotFound(id: string) {
  return notFound('message', id)
}

// Plinth's, by analogy with G3: a v1 assistant file or message file that is not attached
export function assistantFileNotFound(id: string) {
  return notFound('assistant file', id)
}

export function messageFileNotFound(id: string) {
  return notFound('message file', id)
}

// G5; `prefix` is written without its separator ('thread', 'asst', 'msg')
export function invalidIdPrefix(param: string, value: string, prefix: string) {
  return invalidRequest(
    `Invalid '${param}': '${value}'. Expected an ID that begins with '${prefix}'.`,
    param,
    'invalid_value',
  )
}

// G7
export function threadHasActiveRun(threadId: string, runId: string) {
  return invalidRequest(`Can't add messages to ${threadId} while a run ${runId} is active.`)
}

// H3
export function vectorStoreNotFound(id: string) {
  return notFound('vector store', id)
}

// OpenAI's (not in errors.md; reported verbatim in mkdev-me/terraform-provider-openai#35): a file
// id that is not in the vector store
export function vectorStoreFileNotFound(fileId: string, storeId: string) {
  return new ApiError(404, `No file found with id '${fileId}' in vector store '${storeId}'.`, 'invalid_request_error', null, null)
}

// Plinth's, in H3's form
export function fileBatchNotFound(batchId: string, storeId: string) {
  return new ApiError(404, `No file batch found with id '${batchId}' in vector store '${storeId}'.`, 'invalid_request_error', null, null)
}

// Plinth's (OpenAI's text is not known): an expired vector store can be read and deleted, not used
export function vectorStoreExpired(id: string) {
  return invalidRequest(`Vector store '${id}' has expired. Create a new vector store to use its files.`, 'vector_store_id', 'vector_store_expired')
}

// Plinth's, in F8's form and status (OpenAI's text for file batches is not known): a file batch
// that ended cannot be cancelled. A 409 is retried by the SDKs unless told otherwise.
export function fileBatchNotCancellable(status: string) {
  return new ApiError(409, `Cannot cancel a file batch with status '${status}'.`, 'invalid_request_error', null, null, {
    'x-should-retry': 'false',
  })
}

// Plinth's: chunk_overlap_tokens beyond what OpenAI allows
export function chunkOverlapTooLarge(param: string, overlap: number, max: number) {
  return invalidRequest(
    `Invalid '${param}': chunk_overlap_tokens must be non-negative and not exceed half of max_chunk_size_tokens (${Math.floor(max / 2)}), but got ${overlap} instead.`,
    param,
    'invalid_value',
  )
}

// Plinth's: the server's vector index is missing (pgvector not installed, sqlite-vec not loadable)
export function vectorIndexUnavailable(reason: string) {
  return new ApiError(
    503,
    `Vector stores are unavailable on this server: ${reason}.`,
    'server_error',
    null,
    'vector_index_unavailable',
    { 'x-should-retry': 'false' },
  )
}

// Plinth's, in the spec's words: file_search takes vector_store_ids or vector_stores
export function vectorStoreIdsAndHelper(param: string) {
  return invalidRequest(
    `Invalid '${param}': provide either 'vector_store_ids' or 'vector_stores', not both.`,
    param,
    'invalid_value',
  )
}

// Plinth's, worded as the validation layer words a too-long array: a 21st file on a v1 assistant
export function tooManyAssistantFiles(count: number, max: number) {
  return invalidRequest(
    `Invalid 'file_ids': array too long. Expected an array with maximum length ${max}, but got an array with length ${count} instead.`,
    'file_ids',
    'array_above_max_length',
  )
}

/**
 * Plinth's: an optional system part that a model needs is not installed on this host (ffmpeg,
 * flite, pocketsphinx...). Plinth still starts; the request says what to install.
 */
export function engineUnavailable(what: string, install: string) {
  return new ApiError(
    503,
    `${what} is not available on this server. Install it on the host (${install}) and retry; \`plinth doctor\` checks every optional part.`,
    'server_error',
    null,
    'engine_unavailable',
    { 'x-should-retry': 'false' },
  )
}

// H4
export function previousResponseNotFound(id: string) {
  return invalidRequest(`Previous response with id '${id}' not found.`, 'previous_response_id', 'previous_response_not_found')
}

/** GET/DELETE /v1/responses/{id} of an id this project does not have. */
export function responseNotFound(id: string) {
  return new ApiError(404, `Response with id '${id}' not found.`, 'invalid_request_error', null, null)
}

/**
 * A conversation this project does not have (the Conversations API, and `conversation` on
 * POST /v1/responses): newer than errors.md, in the wording of responseNotFound beside it.
 */
export function conversationNotFound(id: string) {
  return new ApiError(404, `Conversation with id '${id}' not found.`, 'invalid_request_error', null, null)
}

/** POST /v1/responses with both `conversation` and `previous_response_id`, as OpenAI words it. */
export function conversationWithPreviousResponse() {
  return invalidRequest(
    "Mutually exclusive parameters. Ensure you are only providing one of: 'previous_response_id' or 'conversation'.",
    null,
    'mutually_exclusive_parameters',
  )
}

/** POST /v1/responses/{id}/cancel of a response that was not created with background: true. */
export function responseNotCancellable() {
  return invalidRequest('Cannot cancel a synchronous response.', null, null)
}

/** A `/v1/responses` batch line with `background: true`. */
export function backgroundInBatch() {
  return invalidRequest("Background mode is not supported in the Batch API.", 'body.background', 'invalid_value')
}

/** An item_reference to no item of this project's stored responses. */
export function itemNotFound(id: string, param: string) {
  return new ApiError(404, `Item with id '${id}' not found.`, 'invalid_request_error', param, null)
}

/** The Responses API's wording of a prompt over the context (truncation: disabled). */
export function inputContextExceeded() {
  return invalidRequest('Your input exceeds the context window of this model. Please adjust your input and try again.', 'input', 'context_length_exceeded')
}

/** A built-in Responses tool this server does not run: refused up front, named, never ignored. */
export function responsesToolNotServed(type: string, param: string) {
  return invalidRequest(
    `Tool '${type}' is not supported by this server: Plinth's Responses API runs function tools only (file_search and code_interpreter run in Assistants runs; web search, computer use, image generation and MCP have no engine here).`,
    param,
    'unsupported_tool',
  )
}

/** text.format json_object without the word in the input, as OpenAI's Responses API words it. */
export function responsesJsonWordMissing() {
  return invalidRequest(
    "Response input messages must contain the word 'json' in some form to use 'text.format' of type 'json_object'.",
    'input',
    'invalid_value',
  )
}

// Fine-tuning. OpenAI's texts are quoted where known ("is not available for fine-tuning or does
// not exist", "invalid training_file: <id>"); the others are Plinth's, in the same style.

export function fineTuningJobNotFound(id: string) {
  return notFound('fine-tuning job', id, 'fine_tuning_job_id')
}

export function fineTuningModelNotAvailable(model: string, reason?: string) {
  return invalidRequest(
    reason
      ? `Model ${model} is not available for fine-tuning: ${reason}`
      : `Model ${model} is not available for fine-tuning or does not exist.`,
    'model',
    'model_not_available',
  )
}

export function fineTuningFileNotFound(param: 'training_file' | 'validation_file', id: string) {
  return invalidRequest(`invalid ${param}: ${id}`, param, null)
}

export function fineTuningFilePurpose(param: 'training_file' | 'validation_file', id: string, purpose: string) {
  return invalidRequest(
    `Invalid '${param}': file ${id} has purpose '${purpose}', but files for fine-tuning must be uploaded with purpose 'fine-tune'.`,
    param,
    'invalid_value',
  )
}

/**
 * POST /v1/moderations with a model that is not a moderation model, or that does not exist:
 * OpenAI answers 400 (not 404) on this endpoint (BerriAI/litellm#6020, the body quoted).
 */
export function notAModerationModel(model: string) {
  return invalidRequest(`Invalid value for 'model' = ${model}. Please check the OpenAI documentation and try again.`, 'model')
}

/** omni-moderation takes one image a request (antiwork/gumroad#4709, the body quoted). */
export function tooManyModerationImages(count: number, max: number) {
  return invalidRequest(`Number of images (${count}) exceeds maximum of ${max}`, 'input', 'too_many_images')
}

/** Plinth's: the chat model configured as moderation judge did not answer the JSON it was asked for. */
export function judgeAnswerInvalid(model: string, detail: string) {
  return new ApiError(502, `The moderation judge model \`${model}\` gave an answer that could not be read: ${detail}`, 'server_error')
}

export function fineTuningMethodNotServed(type: string, model: string) {
  return invalidRequest(
    `Invalid 'method.type': '${type}' fine-tuning is not available for ${model} here; Plinth's local trainer runs 'supervised' jobs only.`,
    'method.type',
    'invalid_value',
  )
}

export function fineTuningIntegrationsNotServed() {
  return invalidRequest(
    "Invalid 'integrations': this server has no Weights and Biases integration; leave 'integrations' empty.",
    'integrations',
    'invalid_value',
  )
}

export function fineTuningHyperparametersTwice() {
  return invalidRequest(
    "Specify hyperparameters either in 'method' or at the top level (deprecated), not both.",
    'hyperparameters',
    'invalid_value',
  )
}

export function fineTuningSuffixInvalid(suffix: string) {
  return invalidRequest(
    `Invalid 'suffix': '${suffix}'. A suffix may only hold letters, digits, '-', '_' and '.'.`,
    'suffix',
    'invalid_value',
  )
}

// a 400 that retrying cannot fix
export function fineTuningNotCancellable(id: string, status: string) {
  return new ApiError(400, `Cannot cancel fine-tuning job ${id}: it has already ${status === 'succeeded' ? 'succeeded' : status}.`, 'invalid_request_error', null, null, {
    'x-should-retry': 'false',
  })
}

// Plinth's wording (OpenAI's is not public), in the style of the cancel's: a 400 retrying cannot fix
export function fineTuningNotPausable(id: string, status: string) {
  return new ApiError(400, `Cannot pause fine-tuning job ${id}: only a running job can be paused, and it is ${status}.`, 'invalid_request_error', null, null, {
    'x-should-retry': 'false',
  })
}

export function fineTuningNotResumable(id: string, status: string) {
  return new ApiError(400, `Cannot resume fine-tuning job ${id}: only a paused job can be resumed, and it is ${status}.`, 'invalid_request_error', null, null, {
    'x-should-retry': 'false',
  })
}

export function checkpointNotFound(name: string) {
  return notFound('fine-tuned model checkpoint', name, 'fine_tuned_model_checkpoint')
}

export function checkpointPermissionNotFound(id: string) {
  return notFound('checkpoint permission', id, 'permission_id')
}

export function projectNotFound(id: string, param: string) {
  return notFound('project', id, param)
}

// a local model's answer that failed its schema after the grammar and every retry (should not happen)
export function answerFailedSchema(param: string, detail: string) {
  return new ApiError(
    500,
    `The model's answer did not satisfy the schema of '${param}' (${detail}), even after retrying. This is a bug in the grammar built from the schema; please report it with the schema.`,
    'server_error',
    param,
    'schema_violation',
  )
}

/**
 * Thrown by the storage layer when a store the request needs does not answer (the database
 * restarting, Redis down): a connection refused or cut, a pool that cannot connect in time. The
 * request is answered 503 `serviceUnavailable`; the node reconnects by itself.
 */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError'
  constructor(
    readonly store: 'database' | 'rate limiter',
    options?: { cause?: unknown },
  ) {
    const cause = options?.cause instanceof Error ? `: ${options.cause.message}` : ''
    super(`the ${store} is unavailable${cause}`, options)
  }
}

// Plinth's, in I3's form: the SDKs retry every 503, and x-should-retry says so outright
export function serviceUnavailable(store: 'database' | 'rate limiter', requestId: string, cause?: unknown) {
  return new ApiError(
    503,
    `The server cannot reach its ${store} right now. You can retry your request in a few seconds. (Please include the request ID ${requestId} in your message.)`,
    'server_error',
    null,
    'service_unavailable',
    { 'x-should-retry': 'true', 'retry-after': '1' },
    { cause },
  )
}

// OpenAI's answer on its current completions model (gpt-3.5-turbo-instruct): the log probabilities
// of an echoed prompt are not served, and a half-covered answer would mislead a scorer
export function echoWithLogprobs() {
  return invalidRequest("Setting 'echo' and 'logprobs' at the same time is not supported for this model.")
}

// Evals. OpenAI's texts for these are not known (errors.md has none); these are Plinth's, in the
// catalogue's style: notFound's wording, a 409 for a run that already ended (as F8), and a 400
// naming what this server does not run.

export function evalNotFound(id: string) {
  return notFound('eval', id)
}

export function evalRunNotFound(id: string) {
  return notFound('eval run', id)
}

export function evalOutputItemNotFound(id: string) {
  return notFound('eval run output item', id)
}

export function evalRunNotCancellable(status: string) {
  return new ApiError(409, `Cannot cancel an eval run with status '${status}'.`, 'invalid_request_error', null, null, {
    'x-should-retry': 'false',
  })
}

/** A grader, metric or data source this server does not run (docs/evals.md, "Not supported"). */
export function evalNotSupported(what: string, param: string) {
  return invalidRequest(`${what} is not supported by this server.`, param, 'unsupported_value')
}

export function evalRunNeedsInputMessages() {
  return invalidRequest("Missing required parameter: 'data_source.input_messages'.", 'data_source.input_messages', 'missing_required_parameter')
}

/** A run's JSONL file: a line that is not a JSON object fails the run. */
export function evalBadJsonlLine(fileId: string, line: number, what: 'not valid JSON' | 'not a JSON object') {
  return invalidRequest(`Line ${line} of file ${fileId} is ${what}.`, 'data_source.source.id', 'invalid_file')
}

/**
 * An item of a run that does not match the eval's item_schema (a custom data source config): the
 * run is refused (inline items) or fails before any model call (a file), naming the item's index
 * in the source and the first violation.
 */
export function evalBadItem(index: string, why: string, param = 'data_source.source') {
  return invalidRequest(`Item ${index} does not match the eval's item_schema: ${why}.`, param, 'invalid_item')
}

/** An eval whose item_schema is not a JSON Schema a run can check items with. */
export function evalBadItemSchema(why: string) {
  return invalidRequest(`The eval's item_schema is not a valid JSON Schema: ${why}.`, 'data_source_config.item_schema', 'invalid_item_schema')
}

export function evalFileTooLarge(fileId: string, bytes: number, max: number) {
  return invalidRequest(`File ${fileId} is ${bytes} bytes; an eval run reads files of at most ${max} bytes.`, 'data_source.source.id', 'file_too_large')
}

/** An item_reference that names no list of messages errors that item. */
export function evalBadItemReference(reference: string) {
  return invalidRequest(`The item reference '${reference}' does not name a list of messages.`, null, 'invalid_item_reference')
}

export function evalRunNeedsModel(type: string) {
  return invalidRequest(`A '${type}' data source needs a 'model' to sample.`, 'data_source.model', 'missing_required_parameter')
}

/** A Realtime session names a model that is not a chat model (Plinth's Realtime runs on chat). */
export function notARealtimeModel(model: string) {
  return new ApiError(400, `The model \`${model}\` is not supported by the Realtime API: it needs a chat model.`, 'invalid_request_error', 'model', 'model_not_supported')
}

/** An ephemeral Realtime key (ek_...) that is unknown or has expired. */
export function invalidEphemeralKey(key: string) {
  return new ApiError(401, `Incorrect API key provided: ${maskKey(key)}. The ephemeral key is unknown or has expired; create a new session for a new one.`, 'invalid_request_error', null, 'invalid_api_key')
}

/** A container id that is not the project's (unknown, deleted, another project's): OpenAI's words. */
export function containerNotFound(id: string) {
  return new ApiError(404, `Container with id '${id}' not found.`, 'invalid_request_error', null, null)
}

/** A container idle past its `expires_after` (OpenAI's 400, quoted on community.openai.com). */
export function containerExpired() {
  return invalidRequest('Container is expired.')
}

// H2
export function containerFileNotFound(fileId: string, containerId: string) {
  return new ApiError(404, `File ${fileId} not found on container ${containerId}.`, 'invalid_request_error', null, null)
}

/** A container file's name: one segment of /mnt/data, as the sandbox places files. */
export function invalidContainerFileName(name: string) {
  return invalidRequest(`Invalid file name '${name}': a container file is placed at /mnt/data/<name>, one path segment of at most 255 characters.`, 'file', 'invalid_value')
}
