import type { IncomingMessage, ServerResponse } from 'node:http'
import type { LogEvent } from 'kysely'
import { rootLog } from '../logger.js'
import type { RequestRecord } from '../request-context.js'
import { shownEndpoint, tracingSettings, type TracingSettings } from './settings.js'

/**
 * Optional OpenTelemetry traces (docs/operations.md, "Tracing (OpenTelemetry)"). This module is
 * the switch every instrumentation site reads: `tracing` stays undefined unless the OTEL_*
 * environment turns tracing on, and each site is a single `if (tracing)`, so with tracing off a
 * request pays one check per site, allocates nothing, and no OpenTelemetry module is loaded
 * (the SDK, in sdk.ts, is imported only when tracing starts).
 */
export interface Tracing {
  /** http/observe: runs a request's handling inside its server span, ended when the response is. */
  request(incoming: IncomingMessage, outgoing: ServerResponse, record: RequestRecord, handle: () => void): void
  /** A child span of the active one around `fn` (auth, the usage flush); a failure marks it. */
  span<T>(name: string, fn: () => Promise<T>, attributes?: Record<string, string | number | boolean>): Promise<T>
  /** providers/registry: the provider, its model calls each in a span (gen_ai.* attributes). */
  provider<P extends { readonly id: string }>(provider: P): P
  /** Upstream calls: the headers with the active span's `traceparent` (and `tracestate`). */
  headers(headers: Record<string, string>): Record<string, string>
  /** http/render-error: the OpenAI error the request answers with, on its server span. */
  error(error: { status: number; type: string; code: string | null; message: string }): void
  /** storage: Kysely's log hook, one span per statement run inside a traced request. */
  queryLog(dialect: string): (event: LogEvent) => void
  /** Exports what is left and stops (SIGTERM). */
  shutdown(): Promise<void>
}

/** Undefined unless tracing is on; reassigned only by startTracing and stopTracing. */
export let tracing: Tracing | undefined

export const tracingLog = rootLog.child({ log: 'tracing' })

/**
 * Turns tracing on when the environment asks for it, before the storage and the providers are
 * created (their hooks are set up then). `worker` is `serve --workers N`'s worker index: each
 * worker exports its own spans, with its own service.instance.id.
 */
export async function startTracing(env: Record<string, string | undefined> = process.env, options: { worker?: number } = {}): Promise<TracingSettings> {
  const settings = tracingSettings(env)
  for (const warning of settings.warnings) tracingLog.warn(warning)
  if (!settings.enabled || tracing) return settings
  const { createTracing } = await import('./sdk.js')
  tracing = await createTracing(settings, options)
  tracingLog.info(
    { exporters: settings.exporters, protocol: settings.protocol, endpoint: shownEndpoint(settings.endpoint), sampler: settings.sampler.name, ratio: settings.sampler.ratio },
    `tracing on: spans to ${settings.exporters.includes('otlp') ? `${shownEndpoint(settings.endpoint)} (${settings.protocol})` : 'stdout'}`,
  )
  return settings
}

/** Exports the spans not yet sent and turns tracing off; a no-op when it was off. */
export async function stopTracing(): Promise<void> {
  const current = tracing
  if (!current) return
  tracing = undefined
  try {
    await current.shutdown()
  } catch (error) {
    tracingLog.warn({ err: error }, 'tracing: the last spans could not be exported')
  }
}
