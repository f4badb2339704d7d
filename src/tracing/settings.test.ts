import { describe, expect, it } from 'vitest'
import { parseHeaders, shownEndpoint, tracingSettings } from './settings.js'
import { formatTraceparent, parseTraceparent } from './traceparent.js'

describe('tracingSettings', () => {
  it('is off with nothing set, with none, and with OTEL_SDK_DISABLED', () => {
    expect(tracingSettings({})).toMatchObject({ enabled: false })
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toMatchObject({ enabled: false })
    expect(tracingSettings({ OTEL_SDK_DISABLED: 'TRUE', OTEL_TRACES_EXPORTER: 'otlp' })).toMatchObject({ enabled: false })
    // a blank value is unset
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: ' ', OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toMatchObject({ enabled: false })
  })

  it('is on with otlp, or with an endpoint alone; the endpoint gets /v1/traces unless it is the traces one', () => {
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp' })).toMatchObject({ enabled: true, endpoint: 'http://localhost:4318/v1/traces', protocol: 'http/protobuf' })
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toMatchObject({ enabled: true, exporters: ['otlp'], endpoint: 'http://collector:4318/v1/traces' })
    expect(
      tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://tempo.example/otlp/v1/traces' }),
    ).toMatchObject({ enabled: true, endpoint: 'https://tempo.example/otlp/v1/traces' })
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp,console' })).toMatchObject({ exporters: ['otlp', 'console'] })
  })

  it('takes http/json, and says plainly that grpc is not supported', () => {
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toMatchObject({ protocol: 'http/json', warnings: [] })
    const grpc = tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })
    expect(grpc).toMatchObject({ enabled: true, protocol: 'http/protobuf' })
    expect(grpc.warnings).toEqual([expect.stringMatching(/grpc is not supported.*http\/protobuf or http\/json only.*4318/)])
    // the traces-specific setting wins
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' })).toMatchObject({ protocol: 'http/json', warnings: [] })
  })

  it('reads the sampler and its ratio, and refuses a bad one with a warning', () => {
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp' })).toMatchObject({ sampler: { name: 'parentbased_always_on', ratio: 1 } })
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' })).toMatchObject({
      sampler: { name: 'parentbased_traceidratio', ratio: 0.25 },
    })
    const bad = tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' })
    expect(bad).toMatchObject({ sampler: { name: 'traceidratio', ratio: 1 } })
    expect(bad.warnings).toHaveLength(1)
    const unknown = tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'jaeger_remote' })
    expect(unknown).toMatchObject({ sampler: { name: 'parentbased_always_on' } })
    expect(unknown.warnings[0]).toMatch(/jaeger_remote is not supported/)
  })

  it('merges the headers, the traces ones winning, values percent-decoded', () => {
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Basic%20abc,x-a=1', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-a=2' })).toMatchObject({
      headers: { authorization: 'Basic abc', 'x-a': '2' },
    })
    const warnings: string[] = []
    expect(parseHeaders('novalue, =x ,a=b=c', warnings)).toEqual({ a: 'b=c' })
    expect(warnings).toHaveLength(1)
  })

  it('an endpoint that is no URL turns tracing off with the reason', () => {
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' })).toMatchObject({ enabled: false, reason: expect.stringMatching(/not a URL/) })
  })

  it('shows an endpoint without its password', () => {
    expect(shownEndpoint('https://user:hunter2@collector.example/v1/traces')).toBe('https://user:***@collector.example/v1/traces')
    expect(shownEndpoint('http://collector:4318/v1/traces')).toBe('http://collector:4318/v1/traces')
  })

  it('reads the batch processor settings', () => {
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_BSP_SCHEDULE_DELAY: '200', OTEL_BSP_MAX_QUEUE_SIZE: 'many' })).toMatchObject({
      batch: { scheduledDelayMillis: 200, maxQueueSize: 2048 },
      warnings: [expect.stringMatching(/OTEL_BSP_MAX_QUEUE_SIZE/)],
    })
  })
})

describe('traceparent', () => {
  it('reads a valid header and writes it back', () => {
    const header = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const parent = parseTraceparent(header)
    expect(parent).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 })
    expect(formatTraceparent(parent!)).toBe(header)
    expect(parseTraceparent('00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-00')).toMatchObject({ traceFlags: 0 })
    // a later version may add fields
    expect(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03-extra')).toMatchObject({ traceFlags: 1 })
  })

  it('refuses malformed and invalid headers', () => {
    for (const bad of [
      undefined,
      '',
      'garbage',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
      `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`,
      '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01',
    ]) {
      expect(parseTraceparent(bad), String(bad)).toBeUndefined()
    }
    expect(parseTraceparent(['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'x'])).toBeUndefined()
  })
})
