import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { ConfigSchema, type Config, type ConfigInput } from './schema.js'

export class ConfigError extends Error {
  override name = 'ConfigError'
}

type Env = Record<string, string | undefined>

/** Overrides from the CLI (`plinth serve --port ...`); they win over env and file. */
export type ConfigOverrides = { port?: number; host?: string; dataDir?: string; configFile?: string }

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
  applyEnv(raw, env)
  if (overrides.port !== undefined) (raw.server ??= {}).port = overrides.port
  if (overrides.host !== undefined) (raw.server ??= {}).host = overrides.host
  if (overrides.dataDir !== undefined) raw.dataDir = overrides.dataDir
  return parseConfig(raw)
}

export function parseConfig(raw: ConfigInput | Record<string, unknown>): Config {
  const result = ConfigSchema.safeParse(raw)
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`)
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`)
  }
  return deepFreeze(result.data)
}

function applyEnv(raw: Record<string, any>, env: Env) {
  const num = (name: string) => {
    const v = env[name]
    if (v === undefined || v === '') return undefined
    const n = Number(v)
    if (!Number.isInteger(n)) throw new ConfigError(`${name} must be an integer, got '${v}'`)
    return n
  }
  const port = num('PLINTH_PORT')
  if (port !== undefined) (raw.server ??= {}).port = port
  if (env.PLINTH_HOST) (raw.server ??= {}).host = env.PLINTH_HOST
  const limit = num('PLINTH_BODY_LIMIT_BYTES')
  if (limit !== undefined) (raw.server ??= {}).bodyLimitBytes = limit
  if (env.PLINTH_DATA_DIR) raw.dataDir = env.PLINTH_DATA_DIR
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
  if (env.PLINTH_DATABASE_URL) raw.databaseUrl = env.PLINTH_DATABASE_URL
  if (env.PLINTH_REDIS_URL) (raw.rateLimits ??= {}).redisUrl = env.PLINTH_REDIS_URL
  if (env.PLINTH_LOG_LEVEL) (raw.log ??= {}).level = env.PLINTH_LOG_LEVEL
  if (env.PLINTH_SESSION_SECRET) (raw.dashboard ??= {}).sessionSecret = env.PLINTH_SESSION_SECRET
  if (env.PLINTH_OWNER_EMAIL) (raw.organization ??= {}).ownerEmail = env.PLINTH_OWNER_EMAIL
  if (env.PLINTH_BOOTSTRAP_ADMIN_KEY) (raw.bootstrap ??= {}).adminKey = env.PLINTH_BOOTSTRAP_ADMIN_KEY
  if (env.PLINTH_BOOTSTRAP_PROJECT_KEY) (raw.bootstrap ??= {}).projectKey = env.PLINTH_BOOTSTRAP_PROJECT_KEY
  if (env.PLINTH_CODE_INTERPRETER !== undefined) (raw.codeInterpreter ??= {}).enabled = env.PLINTH_CODE_INTERPRETER !== '0' && env.PLINTH_CODE_INTERPRETER !== 'false'
  if (env.PLINTH_TEST_MODELS !== undefined) (raw.testModels ??= {}).enabled = env.PLINTH_TEST_MODELS !== '0' && env.PLINTH_TEST_MODELS !== 'false'
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
