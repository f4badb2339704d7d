/**
 * Whether tracing is on, and how, from OpenTelemetry's standard environment variables
 * (docs/operations.md, "Tracing (OpenTelemetry)"). Pure: it reads the env it is given and loads
 * nothing, so deciding that tracing is off costs nothing.
 */

export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio'

export type TracingProtocol = 'http/protobuf' | 'http/json'

export type TracingSettings =
  | { enabled: false; reason: string; warnings: string[] }
  | {
      enabled: true
      /** otlp, and console (spans written to stdout, for a look without a collector) */
      exporters: ('otlp' | 'console')[]
      protocol: TracingProtocol
      /** the full URL spans are posted to (…/v1/traces) */
      endpoint: string
      headers: Record<string, string>
      sampler: { name: SamplerName; ratio: number }
      batch: { scheduledDelayMillis: number; maxQueueSize: number; maxExportBatchSize: number; exportTimeoutMillis: number }
      /** one line each at start: settings that were asked for and cannot be honoured */
      warnings: string[]
    }

type Env = Record<string, string | undefined>

const SAMPLERS: readonly SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
]

const DEFAULT_ENDPOINT = 'http://localhost:4318/v1/traces'

/** An env value, with blank treated as unset (as the OpenTelemetry spec asks). */
function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim()
  return value ? value : undefined
}

export function tracingSettings(env: Env): TracingSettings {
  const warnings: string[] = []
  if (read(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return { enabled: false, reason: 'OTEL_SDK_DISABLED=true', warnings }
  const tracesEndpoint = read(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')
  const baseEndpoint = read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT')
  const asked = read(env, 'OTEL_TRACES_EXPORTER')
  const names = asked ? asked.split(',').map((name) => name.trim().toLowerCase()).filter(Boolean) : []
  // without OTEL_TRACES_EXPORTER, an OTLP endpoint is the sign that traces are wanted; the SDK's
  // own default (otlp to localhost) would make every Plinth post spans to nowhere
  if (!asked && !tracesEndpoint && !baseEndpoint) return { enabled: false, reason: 'no OTEL_TRACES_EXPORTER or OTEL_EXPORTER_OTLP_ENDPOINT set', warnings }
  if (names.includes('none')) return { enabled: false, reason: 'OTEL_TRACES_EXPORTER=none', warnings }
  const exporters: ('otlp' | 'console')[] = []
  for (const name of names.length ? names : ['otlp']) {
    if (name === 'otlp' || name === 'console') {
      if (!exporters.includes(name)) exporters.push(name)
    } else warnings.push(`OTEL_TRACES_EXPORTER=${name} is not supported (only otlp, console and none); ignored`)
  }
  if (!exporters.length) return { enabled: false, reason: `no supported exporter in OTEL_TRACES_EXPORTER=${asked}`, warnings }

  const endpoint = tracesEndpoint ?? (baseEndpoint ? baseEndpoint.replace(/\/+$/, '') + '/v1/traces' : DEFAULT_ENDPOINT)
  if (exporters.includes('otlp') && !URL.canParse(endpoint)) {
    return { enabled: false, reason: `the OTLP endpoint ${endpoint} is not a URL`, warnings }
  }
  const askedProtocol = (read(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? read(env, 'OTEL_EXPORTER_OTLP_PROTOCOL'))?.toLowerCase()
  let protocol: TracingProtocol = 'http/protobuf'
  if (askedProtocol === 'http/json') protocol = 'http/json'
  else if (askedProtocol && askedProtocol !== 'http/protobuf') {
    const hint = askedProtocol === 'grpc' ? ' (point the endpoint at the collector\'s OTLP/HTTP port, usually 4318, not gRPC\'s 4317)' : ''
    warnings.push(`OTEL_EXPORTER_OTLP_PROTOCOL=${askedProtocol} is not supported: Plinth exports traces over http/protobuf or http/json only; using http/protobuf${hint}`)
  }

  return {
    enabled: true,
    exporters,
    protocol,
    endpoint,
    headers: { ...parseHeaders(read(env, 'OTEL_EXPORTER_OTLP_HEADERS'), warnings), ...parseHeaders(read(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'), warnings) },
    sampler: sampler(env, warnings),
    batch: {
      scheduledDelayMillis: count(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000, warnings),
      maxQueueSize: count(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 2048, warnings),
      maxExportBatchSize: count(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, warnings),
      exportTimeoutMillis: count(env, 'OTEL_BSP_EXPORT_TIMEOUT', 30000, warnings),
    },
    warnings,
  }
}

function sampler(env: Env, warnings: string[]): { name: SamplerName; ratio: number } {
  const asked = read(env, 'OTEL_TRACES_SAMPLER')?.toLowerCase()
  let name: SamplerName = 'parentbased_always_on'
  if (asked && (SAMPLERS as readonly string[]).includes(asked)) name = asked as SamplerName
  else if (asked) warnings.push(`OTEL_TRACES_SAMPLER=${asked} is not supported (${SAMPLERS.join(', ')}); using parentbased_always_on`)
  const arg = read(env, 'OTEL_TRACES_SAMPLER_ARG')
  let ratio = 1
  if (arg !== undefined && name.endsWith('traceidratio')) {
    const value = Number(arg)
    if (Number.isFinite(value) && value >= 0 && value <= 1) ratio = value
    else warnings.push(`OTEL_TRACES_SAMPLER_ARG=${arg} is not a ratio between 0 and 1; using 1`)
  }
  return { name, ratio }
}

/** `key1=value1,key2=value2`, values percent-decoded (the W3C baggage format the spec uses). */
export function parseHeaders(text: string | undefined, warnings: string[] = []): Record<string, string> {
  const headers: Record<string, string> = {}
  if (!text) return headers
  for (const pair of text.split(',')) {
    const at = pair.indexOf('=')
    const name = (at < 0 ? pair : pair.slice(0, at)).trim()
    if (!name) continue
    if (at < 0) {
      warnings.push(`OTLP header '${name}' has no value (expected name=value); ignored`)
      continue
    }
    let value = pair.slice(at + 1).trim()
    try {
      value = decodeURIComponent(value)
    } catch {
      // not percent-encoded after all: the text as given
    }
    headers[name.toLowerCase()] = value
  }
  return headers
}

function count(env: Env, name: string, fallback: number, warnings: string[]): number {
  const text = read(env, name)
  if (text === undefined) return fallback
  const value = Number(text)
  if (Number.isInteger(value) && value > 0) return value
  warnings.push(`${name}=${text} is not a positive integer; using ${fallback}`)
  return fallback
}

/** The endpoint as logs and `plinth doctor` show it: without a password in its URL. */
export function shownEndpoint(endpoint: string): string {
  if (!URL.canParse(endpoint)) return endpoint
  const url = new URL(endpoint)
  if (url.password) url.password = '***'
  return url.toString()
}
