import { z } from 'zod'
import { PricingConfig, RateLimitsConfig } from './limits.js'

/**
 * OpenAI's media model names → Plinth's offline engines, so that an app which hard-codes `tts-1`,
 * `whisper-1`, `dall-e-3` or relies on the moderation default works offline. Each target names
 * its engine honestly (docs/models.md); a configured or upstream model of the same id wins.
 */
export const DEFAULT_MODEL_ALIASES: Record<string, string> = {
  'tts-1': 'flite-speech',
  'tts-1-hd': 'flite-speech',
  'gpt-4o-mini-tts': 'flite-speech',
  'whisper-1': 'pocketsphinx-en-us',
  'gpt-4o-transcribe': 'pocketsphinx-en-us',
  'gpt-4o-mini-transcribe': 'pocketsphinx-en-us',
  'dall-e-2': 'test-image',
  'dall-e-3': 'test-image',
  'gpt-image-1': 'test-image',
  'omni-moderation-latest': 'lexicon-moderation',
  'omni-moderation-2024-09-26': 'lexicon-moderation',
  'text-moderation-latest': 'lexicon-moderation',
  'text-moderation-stable': 'lexicon-moderation',
}

/** An OpenAI-compatible upstream server (OpenAI, Ollama, vLLM, llama.cpp server...). */
export const UpstreamConfig = z.strictObject({
  id: z.string().min(1),
  baseURL: z.url(),
  /** Name of the environment variable holding the upstream's key; the key itself never sits in config. */
  apiKeyEnv: z.string().optional(),
  /** Time allowed for a whole upstream request, a streamed answer's body included. */
  timeoutMs: z.number().int().positive().default(600_000),
  /**
   * Time allowed to connect and, for streamed requests, until the upstream answers with headers.
   * A non-streamed answer sends its headers only once it is generated, so it has `timeoutMs`.
   */
  connectTimeoutMs: z.number().int().positive().default(30_000),
  headers: z.record(z.string(), z.string()).default({}),
  /**
   * The upstream has OpenAI's fine-tuning API: jobs on its models are created there and mirrored
   * (docs/fine-tuning.md), polling it every `fineTuningPollMs` (default 5 s).
   */
  fineTuning: z.boolean().optional(),
  fineTuningPollMs: z.number().int().positive().optional(),
  /**
   * The upstream serves OpenAI's Responses API (`POST /responses`, as OpenAI does): Plinth calls
   * it there. Otherwise a Responses request is translated to chat completions.
   */
  responses: z.boolean().optional(),
})

export const ModelConfig = z.strictObject({
  /** The public model id clients send. */
  id: z.string().min(1),
  provider: z.enum(['test', 'openai-compatible', 'llama-cpp']),
  /** For openai-compatible: which `upstreams[].id` serves it. */
  upstream: z.string().optional(),
  /** The model id the backend knows; defaults to `id`. */
  upstreamModel: z.string().optional(),
  ownedBy: z.string().optional(),
  /**
   * For openai-compatible: the model's context and completion cap, in o200k tokens. When set,
   * Plinth refuses a request over them itself (docs/models.md); unset, the upstream decides.
   */
  contextLength: z.number().int().positive().optional(),
  maxOutputTokens: z.number().int().positive().optional(),
  options: z.record(z.string(), z.unknown()).default({}),
})

/**
 * Options of one `llama-cpp` model: `models[].options` of a configured model, and (except `path`)
 * the defaults in `llama` for every model. See docs/models.md.
 */
export const LlamaModelOptions = z.strictObject({
  /** The GGUF file of a configured model (relative paths resolve against the working directory). */
  path: z.string().min(1).optional(),
  /**
   * CPU threads for evaluation. Always passed to llama.cpp explicitly: its own default (4 on a
   * 2-core machine) ran about 200x slower. Default: the number of physical cores.
   */
  threads: z.number().int().min(1).optional(),
  /** Tokens each sequence can hold (prompt + completion); capped at what the model was trained on. */
  contextSize: z.number().int().min(64).optional(),
  /** Parallel sequences: how many requests generate at once on one loaded model. */
  sequences: z.number().int().min(1).max(64).optional(),
  /** Layers offloaded to the GPU when `llama.gpu` selects one ('auto' fits what the VRAM holds). */
  gpuLayers: z.union([z.enum(['auto', 'max']), z.number().int().min(0)]).optional(),
  /** Chat template: 'auto' (from the GGUF metadata) or a node-llama-cpp wrapper name such as 'chatML'. */
  chatTemplate: z.string().min(1).optional(),
  /** Serve /v1/embeddings from this model (default true; false answers 400). */
  embeddings: z.boolean().optional(),
})

/** In-process GGUF models through node-llama-cpp (the `llama-cpp` provider). */
export const LlamaConfig = z.strictObject({
  /** Every *.gguf under it is served under its file stem. Default: <dataDir>/models. */
  modelsDir: z.string().optional(),
  /**
   * RAM the loaded models (weights and contexts) may take together; the least recently used idle
   * model is unloaded to make room. Default: 75% of the machine's memory.
   */
  memoryBudgetBytes: z.number().int().positive().optional(),
  /**
   * RAM one local fine-tuning job may take (weights as F32, activations at the model's context
   * length, LoRA state); a model estimated above it is refused at job creation. Default: half the
   * machine's memory. See docs/fine-tuning.md.
   */
  trainingMemoryBytes: z.number().int().positive().optional(),
  /** Unload a model after this long without requests (0: keep loaded). */
  idleUnloadMs: z.number().int().min(0).default(600_000),
  /** Requests that may wait for a free sequence per model; beyond it, 429. */
  maxQueue: z.number().int().min(0).default(64),
  /** llama.cpp backend: false (CPU), 'auto', or a GPU build installed as in the README. */
  gpu: z.union([z.literal(false), z.enum(['auto', 'cuda', 'vulkan', 'metal'])]).default(false),
  /** Defaults for every llama-cpp model; a model's own options win. */
  defaults: LlamaModelOptions.omit({ path: true }).prefault({}),
})

/**
 * The code interpreter's Python sandbox (src/sandbox/, docs/code-interpreter.md): one bubblewrap'd
 * Debian CPython per session. Every limit is per session process unless it says otherwise.
 */
export const CodeInterpreterConfig = z.strictObject({
  /** false: the tool is refused with a clear error, and nothing is spawned. */
  enabled: z.boolean().default(true),
  /** The interpreter inside the sandbox: Debian's, whose numpy/pandas/matplotlib come from apt. */
  python: z.string().startsWith('/').default('/usr/bin/python3'),
  /** A session unused this long is ended, its state and files gone (OpenAI: one hour). */
  idleTimeoutMs: z.number().int().positive().default(3_600_000),
  /**
   * Containers (the Containers API): `expires_after.minutes` when a container does not say (auto
   * containers of Responses), and how long one of those minutes lasts (tests shorten it).
   */
  containerMinutes: z.number().int().min(1).max(20).default(20),
  containerMinuteMs: z.number().int().positive().default(60_000),
  /** Wall-clock time one call may take; past it the session is killed and starts fresh. */
  callTimeoutMs: z.number().int().positive().default(60_000),
  /** Time a session may take to start (spawn and import numpy, pandas, matplotlib). */
  startTimeoutMs: z.number().int().positive().default(30_000),
  /** CPU seconds one call may use (RLIMIT_CPU soft limit, raised per call). */
  cpuSeconds: z.number().int().positive().default(60),
  /** CPU seconds a whole session may use (RLIMIT_CPU hard limit). */
  sessionCpuSeconds: z.number().int().positive().default(1800),
  /** Address space of each process in the sandbox (RLIMIT_AS): beyond it Python raises MemoryError. */
  memoryBytes: z.number().int().min(256 * 1024 * 1024).default(1024 * 1024 * 1024),
  /** Size of the sandbox's /tmp (tmpfs, held in RAM). */
  tmpBytes: z.number().int().positive().default(64 * 1024 * 1024),
  /** Size of /mnt/data, the working directory (tmpfs, held in RAM). */
  dataBytes: z.number().int().positive().default(256 * 1024 * 1024),
  /** stdout and stderr kept of one call; the rest is dropped with a note. */
  maxOutputBytes: z.number().int().positive().default(64 * 1024),
  /** Files written to /mnt/data returned by one call. */
  maxFiles: z.number().int().min(0).default(20),
  /** Largest file returned, and the largest file code may write (RLIMIT_FSIZE). */
  maxFileBytes: z.number().int().positive().default(50 * 1024 * 1024),
  /** Sessions alive at once; the least recently used idle one is ended to make room. */
  maxSessions: z.number().int().positive().default(8),
  /**
   * Sandbox processes kept started ahead, so that a new session (or one restarted after a kill)
   * does not wait for Python to import numpy, pandas and matplotlib. None before the first use.
   */
  spareKernels: z.number().int().min(0).max(8).default(1),
  /** Processes and threads in one sandbox (RLIMIT_NPROC, counted per sandbox). */
  maxProcesses: z.number().int().min(4).default(64),
  /** Open files per process (RLIMIT_NOFILE). */
  maxOpenFiles: z.number().int().min(32).default(256),
  /** When Plinth runs as root, the sandbox runs as this unprivileged uid/gid (root ignores RLIMIT_NPROC). */
  sandboxUid: z.number().int().positive().default(65534),
})

export const ConfigSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8080),
      /** Largest JSON request body accepted, in bytes (413 above). */
      bodyLimitBytes: z.number().int().positive().default(32 * 1024 * 1024),
      /** Allowed CORS origins; '*' lets browser apps call Plinth directly. */
      corsOrigins: z.array(z.string()).default(['*']),
      /** Server processes on the one port (node:cluster); 'auto' = one per core (docs/deployment.md). */
      workers: z.union([z.number().int().min(1).max(256), z.literal('auto')]).default(1),
      /**
       * Reverse proxies in front of Plinth whose X-Forwarded-For and X-Forwarded-Proto are believed
       * (client addresses in the audit log and sign-in throttle, the scheme of image URLs and the
       * session cookie). 0: none, the headers are ignored. Set it only when clients cannot reach
       * Plinth except through the proxies (docs/deployment.md, "TLS").
       */
      trustProxy: z.number().int().min(0).max(10).default(0),
      /**
       * Mutual TLS behind a TLS proxy: the request header in which the proxy forwards the client's
       * certificate (nginx: `$ssl_client_escaped_cert`). Set, a key whose organization or project
       * has active certificates (the Certificates API) must come with one of them. Unset (the
       * default): certificates are stored but not enforced (docs/organization.md, "Certificates").
       */
      clientCertificateHeader: z.string().min(1).optional(),
    })
    .prefault({}),
  dataDir: z.string().default('./data'),
  /** Empty: SQLite at <dataDir>/plinth.db. postgres://... selects PostgreSQL. */
  databaseUrl: z.string().optional(),
  /**
   * PostgreSQL: how long a statement may go unanswered before the request fails with a 503 and the
   * connection is dropped (a server that hangs without closing connections); 0 = no limit.
   */
  databaseQueryTimeoutMs: z.number().int().min(0).default(30_000),
  /** The Batch API (docs/batches.md). The limits default to OpenAI's. */
  batches: z
    .strictObject({
      /** Lines of one batch in flight at once; each running batch job has its own. */
      concurrency: z.number().int().min(1).max(256).default(4),
      /** Requests one input file may hold. */
      maxRequests: z.number().int().positive().default(50_000),
      /** Largest input file, in bytes. */
      maxInputBytes: z.number().int().positive().default(200 * 1024 * 1024),
      /** Largest single line (one request), in bytes. */
      maxLineBytes: z.number().int().positive().default(10 * 1024 * 1024),
    })
    .prefault({}),
  /** The Evals API (docs/evals.md). */
  evals: z
    .strictObject({
      /** Items of one run sampled and graded at once; each running eval.run job has its own. */
      concurrency: z.number().int().min(1).max(64).default(4),
    })
    .prefault({}),
  /** Background jobs (docs/jobs.md). */
  jobs: z
    .strictObject({
      /**
       * Every job kind's lease, in seconds: how soon the batches and runs of a node that died are
       * taken over by another, or by itself after a restart. Unset: each kind's own (batches 15,
       * runs 10). A shorter lease means more frequent heartbeat writes.
       */
      leaseSeconds: z.number().int().min(1).max(3600).optional(),
    })
    .prefault({}),
  /** Files and Uploads; the bytes live under <dataDir>/blobs. Defaults are OpenAI's limits. */
  files: z
    .strictObject({
      /** Largest file accepted by POST /v1/files, in bytes (413 above). */
      maxFileBytes: z.number().int().positive().default(512 * 1024 * 1024),
      /** Largest part of an Upload (413 above). */
      maxPartBytes: z.number().int().positive().default(64 * 1024 * 1024),
      /** Largest Upload: its declared bytes and the sum of its parts. */
      maxUploadBytes: z.number().int().positive().default(8 * 1024 * 1024 * 1024),
      /** An Upload not completed this long after it was created expires. */
      uploadTtlSeconds: z.number().int().positive().default(3600),
      /**
       * Unfinished writes (temporary blobs, file rows whose blob was never committed) idle this
       * long are a crash's leftovers, and the sweep removes them.
       */
      staleWriteSeconds: z.number().int().min(0).default(900),
    })
    .prefault({}),
  /** The Images API (docs/images.md). */
  images: z
    .strictObject({
      /**
       * The origin (and path prefix) that `url` answers point at, e.g. https://plinth.example.com.
       * Unset: the origin the request came in on.
       */
      publicUrl: z.url().optional(),
      /** How long an image URL works, in seconds (OpenAI's: 1 hour). */
      urlTtlSeconds: z.number().int().min(1).max(7 * 86_400).default(3600),
    })
    .prefault({}),
  /** Vector stores and file search (docs/vector-stores.md). */
  vectorStores: z
    .strictObject({
      /**
       * The embedding model of new vector stores (any model with embeddings: test-embed, a GGUF
       * served by llama-cpp, an upstream's). A store keeps the model it was created with.
       */
      embeddingModel: z.string().min(1).default('test-embed'),
      /** Per project id: that project's stores use this model instead. */
      projectEmbeddingModels: z.record(z.string(), z.string().min(1)).default({}),
      /**
       * The chat model that rewrites queries of searches with `rewrite_query: true`. Unset: the
       * query is normalised instead (lower case, keywords without stopwords).
       */
      rewriteModel: z.string().min(1).optional(),
      /** Largest file ingested, in bytes (a larger one ends failed, invalid_file). */
      maxFileBytes: z.number().int().positive().default(512 * 1024 * 1024),
      /** Most tokens one file may hold (OpenAI's limit: 5,000,000). */
      maxFileTokens: z.number().int().positive().default(5_000_000),
      /** Chunks embedded per call to the embedding model (and written per transaction). */
      embedBatchSize: z.number().int().min(1).max(2048).default(32),
    })
    .prefault({}),
  organization: z
    .strictObject({
      name: z.string().default('Personal'),
      /** The owner user made at bootstrap: admin keys made without another owner act as this user. */
      ownerEmail: z.string().default('owner@localhost'),
    })
    .prefault({}),
  bootstrap: z
    .strictObject({
      adminKey: z.string().startsWith('sk-admin-').min(20).optional(),
      projectKey: z.string().startsWith('sk-proj-').min(20).optional(),
    })
    .prefault({}),
  /** Built-in deterministic test models (test-echo, test-scripted, test-embed). */
  testModels: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** JSON file with the scripted model's rules (see docs/models.md). */
      scriptFile: z.string().optional(),
    })
    .prefault({}),
  upstreams: z.array(UpstreamConfig).default([]),
  models: z.array(ModelConfig).default([]),
  /**
   * OpenAI's model names that apps hard-code → the model that serves them here, used only when no
   * model has that id and the target is served (docs/models.md). Set `{}` to turn them off.
   */
  modelAliases: z.record(z.string(), z.string().min(1)).default(DEFAULT_MODEL_ALIASES),
  llama: LlamaConfig.prefault({}),
  /** The Realtime API (docs/realtime.md). */
  realtime: z
    .strictObject({
      /** How long a socket's session lasts, in seconds: its expires_at, when it is closed (OpenAI's: 30 minutes). */
      sessionSeconds: z.number().int().min(1).max(86_400).default(1800),
    })
    .prefault({}),
  /** POST /v1/moderations (docs/moderation.md). */
  moderation: z
    .strictObject({
      /**
       * A chat model (any served id) asked to score each text as a judge, served as the model
       * `judge-moderation`; the OpenAI moderation names then go to it instead of the lexicon.
       */
      judgeModel: z.string().min(1).optional(),
    })
    .prefault({}),
  codeInterpreter: CodeInterpreterConfig.prefault({}),
  /**
   * Changes made on one node (keys revoked, permissions, project archive, rate limits) and the
   * other nodes' caches (docs/deployment.md, "Changes on every node").
   */
  changes: z
    .strictObject({
      /**
       * The longest any node serves a cached key, principal or project limit: an older entry is
       * read again before it is used. Notifications (PostgreSQL LISTEN/NOTIFY) usually apply a
       * change within milliseconds; this is the bound when one is lost.
       */
      maxStaleMs: z.number().int().min(0).max(60_000).default(1000),
    })
    .prefault({}),
  /** The stored files' bytes (Files, Uploads, images, batch outputs): what several nodes share. */
  blobs: z
    .strictObject({
      /** Default <dataDir>/blobs. Env: PLINTH_BLOBS_DIR. Several nodes point it at one shared volume. */
      dir: z.string().min(1).optional(),
    })
    .prefault({}),
  /** Per project and model rate limits (src/config/limits.ts). */
  rateLimits: RateLimitsConfig.prefault({}),
  /** Prices for the costs API (src/config/limits.ts). */
  pricing: PricingConfig.prefault({}),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      /** auto: readable lines on a terminal, JSON otherwise (PLINTH_LOG_FORMAT). */
      format: z.enum(['auto', 'json', 'pretty']).default('auto'),
      /** One access log line per request (method, route, status, ms, request id, project, key, model, tokens). */
      access: z.boolean().default(true),
    })
    .prefault({}),
  /** GET /metrics in Prometheus' text format (docs/operations.md). */
  metrics: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** false: scrapers send an admin key (`authorization: Bearer sk-admin-...`); true: no key. */
      public: z.boolean().default(false),
    })
    .prefault({}),
  /** The web dashboard under /dashboard (sign in with an admin key). */
  dashboard: z
    .strictObject({
      enabled: z.boolean().default(true),
      /**
       * Signs session cookies. Unset: a random secret kept in <dataDir>/dashboard.secret. Set it
       * (PLINTH_SESSION_SECRET) when several nodes serve the dashboard.
       */
      sessionSecret: z.string().min(32).optional(),
      /** Session lifetime in seconds. */
      sessionTtlSeconds: z.number().int().positive().default(12 * 3600),
      /** The request log's size: the last N API requests, per node, in memory only. 0: off. */
      requestLogSize: z.number().int().min(0).max(100_000).default(1000),
    })
    .prefault({}),
})

export type Config = z.output<typeof ConfigSchema>
export type ConfigInput = z.input<typeof ConfigSchema>
export type UpstreamConfig = z.output<typeof UpstreamConfig>
export type ModelConfig = z.output<typeof ModelConfig>
export type LlamaConfig = z.output<typeof LlamaConfig>
export type LlamaModelOptions = z.output<typeof LlamaModelOptions>
export type CodeInterpreterConfig = z.output<typeof CodeInterpreterConfig>
