/**
 * Spec violations Plinth is known to produce today, tolerated so the suite stays green while
 * they are fixed. Each entry matches one (operationId, JSON path) exactly; array indices in
 * paths are written `*`. Delete an entry once the violation is fixed: a new violation, or the
 * same one at another path, still fails the test that caused it.
 */
export type KnownViolation = {
  operationId: string
  // JSON pointer into the payload with indices as `*`, e.g. '/choices/*/message/refusal'
  path: string
  /** 'body' for a JSON response, 'stream' for an SSE data payload; both when omitted. */
  where?: 'body' | 'stream'
  /** What the spec wants, for whoever fixes it. */
  note: string
}

export const KNOWN_VIOLATIONS: readonly KnownViolation[] = [
  {
    operationId: 'retrieveFineTuningJob',
    path: '/status',
    where: 'body',
    note: "A paused job is 'paused' (POST .../pause, SDK 6's jobs.pause); the spec file's FineTuningJob.status predates pausing (SDK 6 does not list it either).",
  },
  {
    operationId: 'listPaginatedFineTuningJobs',
    path: '/data/*/status',
    where: 'body',
    note: "A paused job is 'paused' (POST .../pause); the spec file's FineTuningJob.status predates pausing.",
  },
  {
    operationId: 'createResponse',
    path: '/status',
    where: 'body',
    note: "A background response is created 'queued'; the spec file's Response.status predates background mode (SDK 6 types queued and cancelled).",
  },
  {
    operationId: 'getResponse',
    path: '/status',
    where: 'body',
    note: "A background response is 'queued' or 'cancelled'; the spec file's Response.status predates background mode (SDK 6 types both).",
  },
  {
    operationId: 'createCompletion',
    path: '/choices/*/finish_reason',
    where: 'stream',
    note:
      'Stream chunks are checked against CreateCompletionResponse, whose finish_reason is a required, ' +
      'non-nullable string (stop | length | content_filter); chunks before the last send null.',
  },
  {
    operationId: 'createCompletion',
    path: '/choices/*/logprobs/token_logprobs/*',
    note:
      "An upstream's echo with logprobs gives the prompt's first token a null log probability (OpenAI's " +
      'answer, which lm-eval skips); the spec types the items as numbers. Plinth relays the null.',
  },
  {
    operationId: 'createCompletion',
    path: '/choices/*/logprobs/top_logprobs/*',
    note: "The same first echoed token's top_logprobs entry is null (OpenAI's answer); the spec types it as an object.",
  },
  {
    operationId: 'createEmbedding',
    path: '/data/*/embedding',
    where: 'body',
    note:
      'Embedding.embedding must be an array of numbers; with encoding_format: base64 (the SDK default) ' +
      'it is a base64 string.',
  },
  {
    operationId: 'getChatCompletionMessages',
    path: '/data/*/role',
    where: 'body',
    note:
      'ChatCompletionMessageList items are ChatCompletionResponseMessage, whose role enum is only ' +
      '"assistant"; stored input messages come back with role user/system/developer/tool.',
  },
  {
    operationId: 'listChatCompletions',
    path: '/first_id',
    where: 'body',
    note: 'ChatCompletionList.first_id is a required, non-nullable string; an empty list sends null.',
  },
  {
    operationId: 'listChatCompletions',
    path: '/last_id',
    where: 'body',
    note: 'ChatCompletionList.last_id is a required, non-nullable string; an empty list sends null.',
  },
  {
    operationId: 'listInputItems',
    path: '/first_id',
    where: 'body',
    note: 'ResponseItemList.first_id is a required, non-nullable string; an empty page sends null.',
  },
  {
    operationId: 'listInputItems',
    path: '/last_id',
    where: 'body',
    note: 'ResponseItemList.last_id is a required, non-nullable string; an empty page sends null.',
  },
  {
    operationId: 'deleteResponse',
    path: '',
    where: 'body',
    note:
      "deleteResponse's 200 declares no body, but the spec's own example (and OpenAI) answers " +
      '{"id", "object": "response", "deleted": true}, which Plinth sends.',
  },
  {
    operationId: 'createFile',
    path: '/purpose',
    where: 'body',
    note:
      'OpenAIFile.purpose lists assistants, assistants_output, batch, batch_output, fine-tune, ' +
      'fine-tune-results and vision, but CreateFileRequest accepts user_data and evals too (and the SDK ' +
      'FileObject type has user_data): a file uploaded for those purposes comes back with them.',
  },
  {
    operationId: 'retrieveFile',
    path: '/purpose',
    where: 'body',
    note:
      'OpenAIFile.purpose lists assistants, assistants_output, batch, batch_output, fine-tune, ' +
      'fine-tune-results and vision, but CreateFileRequest accepts user_data and evals too (and the SDK ' +
      'FileObject type has user_data): a file uploaded for those purposes comes back with them.',
  },
  {
    operationId: 'listFiles',
    path: '/data/*/purpose',
    where: 'body',
    note:
      'OpenAIFile.purpose lists assistants, assistants_output, batch, batch_output, fine-tune, ' +
      'fine-tune-results and vision, but CreateFileRequest accepts user_data and evals too (and the SDK ' +
      'FileObject type has user_data): a file uploaded for those purposes comes back with them.',
  },
  {
    operationId: 'completeUpload',
    path: '/file/purpose',
    where: 'body',
    note:
      'OpenAIFile.purpose lists assistants, assistants_output, batch, batch_output, fine-tune, ' +
      'fine-tune-results and vision, but CreateFileRequest accepts user_data and evals too (and the SDK ' +
      'FileObject type has user_data): a file uploaded for those purposes comes back with them.',
  },
  {
    operationId: 'listFiles',
    path: '/first_id',
    where: 'body',
    note: 'ListFilesResponse.first_id is a required, non-nullable string; an empty list sends null.',
  },
  {
    operationId: 'listFiles',
    path: '/last_id',
    where: 'body',
    note: 'ListFilesResponse.last_id is a required, non-nullable string; an empty list sends null.',
  },
  {
    operationId: 'listBatches',
    path: '/first_id',
    where: 'body',
    note: 'ListBatchesResponse.first_id is a non-nullable string; an empty list sends null, as OpenAI does.',
  },
  {
    operationId: 'listBatches',
    path: '/last_id',
    where: 'body',
    note: 'ListBatchesResponse.last_id is a non-nullable string; an empty list sends null, as OpenAI does.',
  },
  // The usage and costs pages as OpenAI sends them (and openai-node types them) differ from the
  // spec file in two places:
  ...[
    'usage-completions',
    'usage-embeddings',
    'usage-moderations',
    'usage-images',
    'usage-audio-speeches',
    'usage-audio-transcriptions',
    'usage-vector-stores',
    'usage-code-interpreter-sessions',
    'usage-costs',
  ].flatMap((operationId): KnownViolation[] => [
    {
      operationId,
      path: '/data/*/result',
      where: 'body',
      note:
        'UsageTimeBucket requires `result`, but OpenAI sends `results` (the spec\'s own examples and ' +
        'openai-node\'s types say `results`), which is what Plinth sends.',
    },
    {
      operationId,
      path: '/next_page',
      where: 'body',
      note:
        'UsageResponse.next_page is a required, non-nullable string; the last page sends null, as ' +
        'the spec\'s examples and openai-node\'s `string | null` show.',
    },
  ]),
  // Vector store lists, as every other list: null ids when empty (openai-node: `string | null`)
  ...['listVectorStores', 'listVectorStoreFiles', 'listFilesInVectorStoreBatch', 'listEvals', 'getEvalRuns', 'getEvalRunOutputItems'].flatMap(
    (operationId): KnownViolation[] =>
      ['/first_id', '/last_id'].map((path) => ({
        operationId,
        path,
        where: 'body',
        note: "The list's first_id and last_id are non-nullable strings; an empty list sends null.",
      })),
  ),
  // The Administration API as OpenAI sends it (and openai-node types it) differs from the spec
  // file where a value is absent: empty lists, keys never used, invites not accepted.
  ...[
    'list-users',
    'list-invites',
    'list-projects',
    'list-project-users',
    'list-project-service-accounts',
    'list-project-api-keys',
    'admin-api-keys-list',
    'list-audit-logs',
    'list-project-rate-limits',
  ].flatMap((operationId): KnownViolation[] =>
    ['/first_id', '/last_id'].map((path) => ({
      operationId,
      path,
      where: 'body',
      note: 'The list\'s first_id and last_id are non-nullable strings; an empty list sends null.',
    })),
  ),
  ...(
    [
      ['inviteUser', '/accepted_at'],
      ['retrieve-invite', '/accepted_at'],
      ['list-invites', '/data/*/accepted_at'],
    ] as const
  ).map(([operationId, path]): KnownViolation => ({
    operationId,
    path,
    where: 'body',
    note: 'Invite.accepted_at is a non-nullable integer, but the spec\'s own example of a pending invite has `"accepted_at": null` (openai-node: `number | null`).',
  })),
  ...(
    [
      ['retrieve-project-api-key', '/last_used_at'],
      ['list-project-api-keys', '/data/*/last_used_at'],
    ] as const
  ).map(([operationId, path]): KnownViolation => ({
    operationId,
    path,
    where: 'body',
    note: 'ProjectApiKey.last_used_at is a non-nullable integer; a key never used has null (openai-node: `number | null`, as AdminApiKey in the spec).',
  })),
  // The Certificates API: empty lists as every list; a certificate uploaded without a name has
  // a null one (openai-node: `name: string | null`; the spec's Certificate.name is a string).
  ...['listOrganizationCertificates', 'listProjectCertificates'].flatMap((operationId): KnownViolation[] =>
    ['/first_id', '/last_id'].map((path) => ({
      operationId,
      path,
      where: 'body',
      note: "The list's first_id and last_id are non-nullable strings; an empty list sends null.",
    })),
  ),
  ...(
    [
      ['uploadCertificate', '/name'],
      ['getCertificate', '/name'],
      ['modifyCertificate', '/name'],
      ['listOrganizationCertificates', '/data/*/name'],
      ['listProjectCertificates', '/data/*/name'],
      ['activateOrganizationCertificates', '/data/*/name'],
      ['deactivateOrganizationCertificates', '/data/*/name'],
      ['activateProjectCertificates', '/data/*/name'],
      ['deactivateProjectCertificates', '/data/*/name'],
    ] as const
  ).map(([operationId, path]): KnownViolation => ({
    operationId,
    path,
    where: 'body',
    note: 'Certificate.name is a non-nullable string; a certificate uploaded without a name has null (openai-node: `string | null`).',
  })),
  {
    operationId: 'list-audit-logs',
    path: '/data/*/type',
    where: 'body',
    note:
      "AuditLogEventType lacks the certificate events (certificate.created/updated/deleted, certificates.activated/deactivated) " +
      'whose details the AuditLog object itself describes; openai-node types them.',
  },
  // The Assistants API's lists (v2, and the two v1-only ones in the 2024-04-15 file).
  ...['listAssistants', 'listMessages', 'listRuns', 'listRunSteps', 'listAssistantFiles', 'listMessageFiles'].flatMap(
    (operationId) =>
      ['/first_id', '/last_id'].map(
        (path): KnownViolation => ({
          operationId,
          path,
          where: 'body',
          note: "The list's first_id and last_id are non-nullable strings; an empty list sends null, as OpenAI does.",
        }),
      ),
  ),
  ...['listAssistantFiles', 'listMessageFiles'].map(
    (operationId): KnownViolation => ({
      operationId,
      path: '/items',
      where: 'body',
      note: "The v1 file's ListAssistantFilesResponse and ListMessageFilesResponse list `items` as required but define no such property (a typo in the spec); OpenAI's lists had object, data, first_id, last_id and has_more only.",
    }),
  ),
  // Evals: the spec's own examples send these as null (a queued run has no error, a jsonl run
  // samples no model, an item of a jsonl run has no sample) where its schemas want non-null values
  ...['createEvalRun', 'getEvalRun', 'cancelEvalRun', 'getEvalRuns'].flatMap((operationId): KnownViolation[] => {
    const at = operationId === 'getEvalRuns' ? '/data/*' : ''
    return [
      { operationId, path: `${at}/error`, where: 'body', note: "EvalRun.error is a required EvalApiError; OpenAI's examples send null until a run fails." },
      { operationId, path: `${at}/report_url`, where: 'body', note: 'EvalRun.report_url is a required string (a link to OpenAI\'s dashboard); Plinth has no report page and sends null.' },
      { operationId, path: `${at}/model`, where: 'body', note: 'EvalRun.model is a required string; a jsonl run samples no model and sends null.' },
      { operationId, path: `${at}/data_source/type`, where: 'body', note: "The spec's CreateEvalResponsesRunDataSource types `type` as 'completions' (a copy of the completions source); the SDK and the request say 'responses'." },
      // the same copy: a responses source then fails every branch of the data source's oneOf, the
      // completions branch's sources (file_content, file_id, stored_completions) included
      ...['/data_source/source/type', '/data_source/source/content', '/data_source/source/id'].map(
        (path): KnownViolation => ({ operationId, path: `${at}${path}`, where: 'body', note: "A `responses` source matched against the completions data source's sources, because of the spec's 'completions' type on CreateEvalResponsesRunDataSource." }),
      ),
    ]
  }),
  ...['getEvalRunOutputItems', 'getEvalRunOutputItem'].flatMap((operationId): KnownViolation[] => {
    const at = operationId === 'getEvalRunOutputItems' ? '/data/*' : ''
    return [
      { operationId, path: `${at}/sample`, where: 'body', note: 'EvalRunOutputItem.sample is a required object; an item of a jsonl run (nothing sampled) sends null.' },
      { operationId, path: `${at}/sample/error`, where: 'body', note: "The sample's error is a required EvalApiError; OpenAI's example sends null when the call succeeded." },
      { operationId, path: `${at}/results/*/sample/error`, where: 'body', note: "A model grader's sample has error null when its call succeeded, as the item's sample." },
    ]
  }),
  ...['createEval', 'getEval', 'updateEval', 'listEvals'].map(
    (operationId): KnownViolation => ({
      operationId,
      path: `${operationId === 'listEvals' ? '/data/*' : ''}/data_source_config/type`,
      where: 'body',
      note: "The spec's Eval lists custom and stored_completions configs only; a `logs` config (CreateEvalLogsDataSourceConfig) is shown as `logs`, as the SDK's EvalCreateResponse.Logs types it.",
    }),
  ),
]
