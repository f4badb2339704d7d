import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { ConfigSchema, type Config, type ConfigInput } from './schema.js'

export class ConfigError extends Error {
  override name = 'ConfigError'
}

type Env = Record<string, string | undefined>

/** Overrides from the CLI (`plinth serve --port ...`); they win over env and file. */
export type ConfigOverrides = { port?: number; host?: string; dataDir?: string; configFile?: string; workers?: number | 'auto' }

/**
 * defaults < JSON file (PLINTH_CONFIG or --config) < PLINTH_* env < CLI flags.
 * The only module that reads process.env; fails fast with every issue listed.
 */
export function loadConfig(env: Env = process.env, overrides: ConfigOverrides = {}): Config {
  const file = overrides.configFile ?? env.PLINTH_CONFIG
  let raw: Record<string, any> = {}
  if (file) {
    let text: string
    try {
      text = fs.readFileSync(file, 'utf8')
    } catch (error) {
      throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`)
    }
    try {
      raw = JSON.parse(text)
    } catch (error) {
      throw new ConfigError(`config file ${file} is not valid JSON: ${(error as Error).message}`)
    }
    if (raw.testModels?.scriptFile) {
      raw.testModels.scriptFile = path.resolve(path.dirname(file), raw.testModels.scriptFile)
    }
  }
  const envIssues = applyEnv(raw, env)
  if (overrides.port !== undefined) (raw.server ??= {}).port = overrides.port
  if (overrides.host !== undefined) (raw.server ??= {}).host = overrides.host
  if (overrides.workers !== undefined) (raw.server ??= {}).workers = overrides.workers
  if (overrides.dataDir !== undefined) raw.dataDir = overrides.dataDir
  return parseConfig(raw, envIssues)
}

/**
 * Every mistake at once: the environment's, the schema's, and (once the shape is right) the
 * references between sections, so that a config with several mistakes is fixed in one go.
 */
export function parseConfig(raw: ConfigInput | Record<string, unknown>, envIssues: string[] = []): Config {
  const result = ConfigSchema.safeParse(raw)
  const lines = envIssues.map((issue) => `  - ${issue}`)
  if (!result.success) lines.push(...result.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`))
  else lines.push(...crossReferenceIssues(result.data).map((issue) => `  - ${issue}`))
  if (lines.length > 0) throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`)
  return deepFreeze(result!.data!)
}

/** What the schema cannot see: ids used twice, models naming upstreams that are not there. */
function crossReferenceIssues(config: Config): string[] {
  const issues: string[] = []
  const upstreams = new Set<string>()
  for (const [i, upstream] of config.upstreams.entries()) {
    if (upstreams.has(upstream.id)) issues.push(`upstreams.${i}.id: '${upstream.id}' is used by another upstream`)
    upstreams.add(upstream.id)
  }
  const models = new Set<string>()
  for (const [i, model] of config.models.entries()) {
    if (models.has(model.id)) issues.push(`models.${i}.id: '${model.id}' is configured twice`)
    models.add(model.id)
    if (model.provider === 'openai-compatible' && !upstreams.has(model.upstream ?? '')) {
      issues.push(
        model.upstream === undefined
          ? `models.${i}.upstream: an openai-compatible model needs the id of one of upstreams[]`
          : `models.${i}.upstream: '${model.upstream}' is not the id of any of upstreams[]`,
      )
    }
  }
  return issues
}

/** Applies the PLINTH_* variables to `raw`; returns what was wrong with them. */
function applyEnv(raw: Record<string, any>, env: Env): string[] {
  const issues: string[] = []
  const num = (name: string) => {
    const v = env[name]
    if (v === undefined || v === '') return undefined
    const n = Number(v)
    if (!Number.isInteger(n)) {
      issues.push(`${name} must be an integer, got '${v}'`)
      return undefined
    }
    return n
  }
  const port = num('PLINTH_PORT')
  if (port !== undefined) (raw.server ??= {}).port = port
  if (env.PLINTH_HOST) (raw.server ??= {}).host = env.PLINTH_HOST
  if (env.PLINTH_WORKERS === 'auto') (raw.server ??= {}).workers = 'auto'
  else {
    const workers = num('PLINTH_WORKERS')
    if (workers !== undefined) (raw.server ??= {}).workers = workers
  }
  const trustProxy = num('PLINTH_TRUST_PROXY')
  if (trustProxy !== undefined) (raw.server ??= {}).trustProxy = trustProxy
  if (env.PLINTH_CLIENT_CERTIFICATE_HEADER) (raw.server ??= {}).clientCertificateHeader = env.PLINTH_CLIENT_CERTIFICATE_HEADER
  const limit = num('PLINTH_BODY_LIMIT_BYTES')
  if (limit !== undefined) (raw.server ??= {}).bodyLimitBytes = limit
  if (env.PLINTH_DATA_DIR) raw.dataDir = env.PLINTH_DATA_DIR
  if (env.PLINTH_BLOBS_DIR) (raw.blobs ??= {}).dir = env.PLINTH_BLOBS_DIR
  const maxFile = num('PLINTH_MAX_FILE_BYTES')
  if (maxFile !== undefined) (raw.files ??= {}).maxFileBytes = maxFile
  const staleWrite = num('PLINTH_FILES_STALE_WRITE_SECONDS')
  if (staleWrite !== undefined) (raw.files ??= {}).staleWriteSeconds = staleWrite
  const uploadTtl = num('PLINTH_UPLOAD_TTL_SECONDS')
  if (uploadTtl !== undefined) (raw.files ??= {}).uploadTtlSeconds = uploadTtl
  const leaseSeconds = num('PLINTH_JOBS_LEASE_SECONDS')
  if (leaseSeconds !== undefined) (raw.jobs ??= {}).leaseSeconds = leaseSeconds
  const batchConcurrency = num('PLINTH_BATCH_CONCURRENCY')
  if (batchConcurrency !== undefined) (raw.batches ??= {}).concurrency = batchConcurrency
  const evalConcurrency = num('PLINTH_EVAL_CONCURRENCY')
  if (evalConcurrency !== undefined) (raw.evals ??= {}).concurrency = evalConcurrency
  if (env.PLINTH_DATABASE_URL) raw.databaseUrl = env.PLINTH_DATABASE_URL
  if (env.PLINTH_REDIS_URL) (raw.rateLimits ??= {}).redisUrl = env.PLINTH_REDIS_URL
  if (env.PLINTH_RATE_LIMITS_ON_REDIS_DOWN) (raw.rateLimits ??= {}).onRedisDown = env.PLINTH_RATE_LIMITS_ON_REDIS_DOWN
  if (env.PLINTH_LOG_LEVEL) (raw.log ??= {}).level = env.PLINTH_LOG_LEVEL
  if (env.PLINTH_LOG_FORMAT) (raw.log ??= {}).format = env.PLINTH_LOG_FORMAT
  if (env.PLINTH_SESSION_SECRET) (raw.dashboard ??= {}).sessionSecret = env.PLINTH_SESSION_SECRET
  if (env.PLINTH_OWNER_EMAIL) (raw.organization ??= {}).ownerEmail = env.PLINTH_OWNER_EMAIL
  if (env.PLINTH_BOOTSTRAP_ADMIN_KEY) (raw.bootstrap ??= {}).adminKey = env.PLINTH_BOOTSTRAP_ADMIN_KEY
  if (env.PLINTH_BOOTSTRAP_PROJECT_KEY) (raw.bootstrap ??= {}).projectKey = env.PLINTH_BOOTSTRAP_PROJECT_KEY
  if (env.PLINTH_CODE_INTERPRETER !== undefined) (raw.codeInterpreter ??= {}).enabled = env.PLINTH_CODE_INTERPRETER !== '0' && env.PLINTH_CODE_INTERPRETER !== 'false'
  if (env.PLINTH_TEST_MODELS !== undefined) (raw.testModels ??= {}).enabled = env.PLINTH_TEST_MODELS !== '0' && env.PLINTH_TEST_MODELS !== 'false'
  return issues
}

/** Reads an upstream's secret; the one other place env is read, by variable name from config. */
export function readSecret(name: string | undefined, env: Env = process.env): string | undefined {
  return name ? env[name] : undefined
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

export { z }
