import { createRequire } from 'node:module'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTracing, tracing } from '../../src/tracing/tracing.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// Tracing off, the default: nothing in the environment asks for it, so no OpenTelemetry module is
// loaded and no tracer provider is registered, while requests are served as usual.

const OTEL_API_GLOBAL = Symbol.for('opentelemetry.js.api.1')

/**
 * The OpenTelemetry SDK's packages loaded in this process (they are CommonJS: require's cache has
 * them). The API package is not among them: prom-client loads it (for its exemplars) in any case.
 */
function loadedOpenTelemetry(): string[] {
  return Object.keys(createRequire(import.meta.url).cache).filter((file) => file.includes('@opentelemetry/') && !file.includes('@opentelemetry/api/'))
}

/** What has been registered with the OpenTelemetry API (a tracer provider, a context manager...). */
function registered(): string[] {
  const global = (globalThis as Record<symbol, Record<string, unknown> | undefined>)[OTEL_API_GLOBAL]
  return Object.keys(global ?? {}).filter((key) => key !== 'version')
}

let t: TestApp

beforeAll(async () => {
  for (const name of Object.keys(process.env)) if (name.startsWith('OTEL_')) delete process.env[name]
  t = await createTestApp()
})
afterAll(async () => {
  await t?.close()
})

describe('tracing off', () => {
  it('with no OTEL_* set, nothing is loaded or registered, and requests are answered', async () => {
    const settings = await startTracing(process.env)
    expect(settings).toMatchObject({ enabled: false })
    const response = await t.client().chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: 'hello' }] })
    expect(response.choices[0].message.content).toBeTruthy()
    expect(tracing).toBeUndefined()
    expect(loadedOpenTelemetry()).toEqual([])
    expect(registered()).toEqual([])
  })

  it('OTEL_TRACES_EXPORTER=none keeps it off even with an endpoint', async () => {
    const settings = await startTracing({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })
    expect(settings).toMatchObject({ enabled: false, reason: 'OTEL_TRACES_EXPORTER=none' })
    const disabled = await startTracing({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })
    expect(disabled).toMatchObject({ enabled: false })
    expect(tracing).toBeUndefined()
    expect(loadedOpenTelemetry()).toEqual([])
  })
})
