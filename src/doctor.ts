import fs from 'node:fs/promises'
import path from 'node:path'
import type { Config } from './config/schema.js'
import { readSecret } from './config/load.js'
import { findExecutable } from './providers/local-audio/process-pipe.js'
import { checkSandbox } from './sandbox/index.js'
import { pocketsphinxStatus } from './providers/local-audio/pocketsphinx.js'
import { sharpVersions } from './providers/image-engine.js'
import { storageConfigFor } from './storage/dialect.js'
import { shownEndpoint, tracingSettings } from './tracing/settings.js'

/** One line of `plinth doctor`. A failed required check makes the command exit 1. */
export type DoctorCheck = {
  section: string
  name: string
  status: 'ok' | 'missing' | 'off'
  detail: string
  /** The one command that installs or enables it. */
  fix?: string
  required: boolean
}

const TIMEOUT_MS = 5000

/**
 * Checks every part Plinth can use on this host: the database, Redis, the models (llama.cpp's
 * GGUF files, upstream servers) and the code interpreter's sandbox. Required: what the config
 * asks for (the database, Redis and upstreams when configured, configured model files). Optional:
 * the sandbox, which only the code interpreter tool needs; Plinth starts without it.
 */
export async function runDoctor(config: Config, env: Record<string, string | undefined>): Promise<DoctorCheck[]> {
  const results = await Promise.all([
    checkStorage(config),
    checkRedis(config),
    checkModels(config, env),
    checkCodeInterpreter(config),
    checkSpeech(),
    checkTranscription(),
    checkImages(),
    checkTracing(env),
  ])
  return results.flat()
}

/** The report as text, and whether every required part is fine. */
export function formatDoctor(checks: DoctorCheck[]): { text: string; ok: boolean } {
  const lines: string[] = []
  let section = ''
  for (const check of checks) {
    if (check.section !== section) {
      section = check.section
      lines.push('', section)
    }
    const mark = check.status === 'ok' ? 'ok     ' : check.status === 'off' ? '-      ' : 'MISSING'
    lines.push(`  ${mark} ${check.name.padEnd(34)} ${check.detail}`)
    if (check.status === 'missing' && check.fix) lines.push(`          fix: ${check.fix}`)
  }
  const missing = checks.filter((check) => check.status === 'missing')
  const requiredMissing = missing.filter((check) => check.required)
  const optionalMissing = missing.filter((check) => !check.required)
  lines.push('')
  lines.push(
    requiredMissing.length === 0
      ? 'All required parts are fine.'
      : `${requiredMissing.length} required part(s) missing: ${requiredMissing.map((check) => check.name).join(', ')}.`,
  )
  if (optionalMissing.length > 0) {
    const sections = [...new Set(optionalMissing.map((check) => check.section))]
    lines.push(`Optional parts missing (${sections.join(', ')}): ${optionalMissing.map((check) => check.name).join(', ')}.`)
  }
  const packages = missing.flatMap((check) => aptPackages(check.fix))
  if (packages.length > 1) {
    lines.push(`To install every missing package: apt-get install -y --no-install-recommends ${[...new Set(packages)].join(' ')}`)
  }
  return { text: `${lines.join('\n').trimStart()}\n`, ok: requiredMissing.length === 0 }
}

function aptPackages(fix: string | undefined): string[] {
  const match = fix?.match(/^apt-get install -y (?:--no-install-recommends )?([a-z0-9.+ -]+)$/)
  return match ? match[1].split(' ') : []
}

async function checkStorage(config: Config): Promise<DoctorCheck[]> {
  const section = 'Database'
  const storage = storageConfigFor(config.databaseUrl, config.dataDir)
  if (storage.kind === 'sqlite') {
    const dir = path.dirname(path.resolve(storage.path))
    const writable = await nearestWritable(dir)
    return [
      writable
        ? { section, name: 'SQLite', status: 'ok', detail: `${storage.path} (${writable} is writable)`, required: true }
        : { section, name: 'SQLite', status: 'missing', detail: `cannot write ${dir}`, fix: `mkdir -p ${dir}`, required: true },
    ]
  }
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: storage.url, connectionTimeoutMillis: TIMEOUT_MS })
  // its failures reach the awaited calls below; an unheard 'error' event would end the process
  client.on('error', () => {})
  try {
    await client.connect()
    const result = await client.query('SELECT version() AS version')
    const version = String(result.rows[0]?.version ?? '').split(' ').slice(0, 2).join(' ')
    return [{ section, name: 'PostgreSQL', status: 'ok', detail: `${redactUrl(storage.url)} (${version})`, required: true }]
  } catch (error) {
    return [
      {
        section,
        name: 'PostgreSQL',
        status: 'missing',
        detail: `${redactUrl(storage.url)}: ${(error as Error).message}`,
        fix: 'apt-get install -y postgresql (or point databaseUrl at a running server)',
        required: true,
      },
    ]
  } finally {
    await client.end().catch(() => {})
  }
}

async function checkRedis(config: Config): Promise<DoctorCheck[]> {
  const section = 'Redis'
  const url = config.rateLimits.redisUrl
  if (!url) return [{ section, name: 'Redis', status: 'off', detail: 'not configured: rate limits count in this process', required: false }]
  const { Redis } = await import('ioredis')
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: TIMEOUT_MS, maxRetriesPerRequest: 0, enableOfflineQueue: false })
  redis.on('error', () => {})
  try {
    await redis.connect()
    const pong = await redis.ping()
    return [{ section, name: 'Redis', status: 'ok', detail: `${redactUrl(url)} (${pong})`, required: true }]
  } catch (error) {
    return [
      {
        section,
        name: 'Redis',
        status: 'missing',
        detail: `${redactUrl(url)}: ${(error as Error).message}`,
        fix: 'apt-get install -y redis-server (or point rateLimits.redisUrl at a running server)',
        required: true,
      },
    ]
  } finally {
    redis.disconnect()
  }
}

async function checkModels(config: Config, env: Record<string, string | undefined>): Promise<DoctorCheck[]> {
  const section = 'Models'
  const checks: DoctorCheck[] = []
  const modelsDir = path.resolve(config.llama.modelsDir ?? path.join(config.dataDir, 'models'))
  const gguf = await countGguf(modelsDir)
  checks.push(
    gguf === undefined
      ? { section, name: 'llama.cpp models dir', status: 'off', detail: `${modelsDir} does not exist (plinth pull <url> makes it)`, required: false }
      : { section, name: 'llama.cpp models dir', status: 'ok', detail: `${modelsDir} (${gguf} GGUF file${gguf === 1 ? '' : 's'})`, required: false },
  )
  for (const model of config.models) {
    const file = model.provider === 'llama-cpp' ? model.options.path : undefined
    if (typeof file !== 'string') continue
    const present = await fs.stat(file).then((s) => s.isFile(), () => false)
    checks.push(
      present
        ? { section, name: `model ${model.id}`, status: 'ok', detail: file, required: true }
        : { section, name: `model ${model.id}`, status: 'missing', detail: `${file} not found`, fix: `plinth pull <url of the GGUF> --name ${model.id}`, required: true },
    )
  }
  checks.push(...(await Promise.all(config.upstreams.map((upstream) => checkUpstream(section, upstream, env)))))
  if (config.testModels.enabled) {
    checks.push({ section, name: 'test models', status: 'ok', detail: 'test-echo, test-scripted, test-embed built in', required: false })
  }
  // lexicon-moderation needs no engine: obscenity is a dependency (docs/moderation.md)
  const judge = config.moderation.judgeModel
  checks.push({ section, name: 'moderation', status: 'ok', detail: judge ? `lexicon-moderation built in; judge-moderation asks ${judge}` : 'lexicon-moderation built in (text only)', required: false })
  return checks
}

async function checkUpstream(
  section: string,
  upstream: Config['upstreams'][number],
  env: Record<string, string | undefined>,
): Promise<DoctorCheck> {
  const name = `upstream ${upstream.id}`
  const key = readSecret(upstream.apiKeyEnv, env)
  if (upstream.apiKeyEnv && !key) {
    return { section, name, status: 'missing', detail: `${upstream.apiKeyEnv} is not set`, fix: `export ${upstream.apiKeyEnv}=<key>`, required: true }
  }
  const url = `${upstream.baseURL.replace(/\/+$/, '')}/models`
  try {
    const response = await fetch(url, {
      headers: { ...upstream.headers, ...(key ? { authorization: `Bearer ${key}` } : {}) },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })
    await response.body?.cancel()
    if (response.status === 401 || response.status === 403) {
      return { section, name, status: 'missing', detail: `${url}: reachable, but the key was refused (HTTP ${response.status})`, required: true }
    }
    return { section, name, status: 'ok', detail: `${url} reachable (HTTP ${response.status})`, required: true }
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message
    return { section, name, status: 'missing', detail: `${url} unreachable: ${cause}`, required: true }
  }
}

async function checkCodeInterpreter(config: Config): Promise<DoctorCheck[]> {
  const section = 'Code interpreter (optional: only the code_interpreter tool needs it)'
  if (!config.codeInterpreter.enabled) {
    return [{ section, name: 'sandbox', status: 'off', detail: 'disabled (codeInterpreter.enabled is false)', required: false }]
  }
  const report = await checkSandbox(config.codeInterpreter)
  return report.checks.map((check) => ({
    section,
    name: check.name,
    status: check.ok ? 'ok' : 'missing',
    detail: check.detail,
    fix: check.fix,
    required: false,
  }))
}

/** The offline speech recognizer (pocketsphinx-en-us): optional, its requests say what to install. */
async function checkTranscription(): Promise<DoctorCheck[]> {
  const status = pocketsphinxStatus()
  const section = 'Audio (optional: only the offline audio models need it)'
  return [{ section, name: 'speech recognition', status: status.ok ? 'ok' : 'missing', detail: status.detail, fix: status.fix, required: false }]
}

/** test-image and the Images API's input checks draw and read pictures with sharp (libvips). */
async function checkImages(): Promise<DoctorCheck[]> {
  const found = await sharpVersions()
  const section = 'Images (optional: only the Images API needs it)'
  return [{ section, name: 'sharp (libvips)', status: found.ok ? 'ok' : 'missing', detail: found.detail, fix: 'npm install sharp', required: false }]
}

async function countGguf(dir: string): Promise<number | undefined> {
  try {
    const entries = await fs.readdir(dir, { recursive: true })
    return entries.filter((entry) => entry.endsWith('.gguf')).length
  } catch {
    return undefined
  }
}

/** The deepest existing directory on the way to `dir`, if this process can write it. */
async function nearestWritable(dir: string): Promise<string | undefined> {
  for (let current = dir; ; current = path.dirname(current)) {
    const exists = await fs.stat(current).then((s) => s.isDirectory(), () => false)
    if (exists) return (await fs.access(current, fs.constants.W_OK).then(() => true, () => false)) ? current : undefined
    if (path.dirname(current) === current) return undefined
  }
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return url
  }
}

/** The offline speech model's engines (flite-speech): without them it answers 503 naming them. */
function checkSpeech(): DoctorCheck[] {
  const section = 'Speech (optional: only the offline flite-speech model needs them)'
  const engine = (name: string, what: string): DoctorCheck => {
    const found = findExecutable(name)
    return {
      section,
      name,
      status: found ? 'ok' : 'missing',
      detail: found ? `${found} (${what})` : `not found (${what})`,
      fix: `apt-get install -y --no-install-recommends ${name}`,
      required: false,
    }
  }
  return [engine('flite', 'speech synthesis'), engine('ffmpeg', 'audio encoding')]
}

/** Tracing (OpenTelemetry): on or off, where spans go, and any OTEL_* setting that cannot be honoured. */
function checkTracing(env: Record<string, string | undefined>): DoctorCheck[] {
  const settings = tracingSettings(env)
  const notes = settings.warnings.length ? `; ${settings.warnings.join('; ')}` : ''
  if (!settings.enabled) return [{ section: 'Operations', name: 'tracing (OpenTelemetry)', status: 'off', detail: `off: ${settings.reason}${notes}`, required: false }]
  const where = settings.exporters.map((name) => (name === 'otlp' ? `${shownEndpoint(settings.endpoint)} (${settings.protocol})` : 'stdout')).join(' and ')
  const ratio = settings.sampler.name.endsWith('traceidratio') ? ` ${settings.sampler.ratio}` : ''
  return [{ section: 'Operations', name: 'tracing (OpenTelemetry)', status: 'ok', detail: `spans to ${where}, sampler ${settings.sampler.name}${ratio}${notes}`, required: false }]
}
