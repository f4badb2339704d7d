import { z } from 'zod'

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
  options: z.record(z.string(), z.unknown()).default({}),
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
    })
    .prefault({}),
  dataDir: z.string().default('./data'),
  /** Empty: SQLite at <dataDir>/plinth.db. postgres://... selects PostgreSQL. */
  databaseUrl: z.string().optional(),
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
  organization: z.strictObject({ name: z.string().default('Personal') }).prefault({}),
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
  log: z
    .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
    .prefault({}),
})

export type Config = z.output<typeof ConfigSchema>
export type ConfigInput = z.input<typeof ConfigSchema>
export type UpstreamConfig = z.output<typeof UpstreamConfig>
export type ModelConfig = z.output<typeof ModelConfig>
