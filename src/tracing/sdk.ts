import { randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'
import { context, diag, DiagLogLevel, trace, type DiagLogger } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base'
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http'
import { ProtobufTraceSerializer, TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer'
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources'
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace'
import type { TracingSettings } from './settings.js'
import { providerSpans } from './provider-spans.js'
import { queryLog } from './query-spans.js'
import { requestSpans } from './spans.js'
import { tracingLog, type Tracing } from './tracing.js'

/**
 * The OpenTelemetry SDK, set up from the settings: a TracerProvider with Plinth's resource, the
 * sampler, a BatchSpanProcessor per exporter, the AsyncLocalStorage context manager, and the
 * SDK's own warnings (a collector that cannot be reached) in Plinth's log. Imported only when
 * tracing is on (tracing.ts).
 */

type EnabledSettings = Extract<TracingSettings, { enabled: true }>

const version = (createRequire(import.meta.url)('../../package.json') as { version: string }).version

export async function createTracing(settings: EnabledSettings, options: { worker?: number } = {}): Promise<Tracing> {
  diag.setLogger(throttledDiagLogger(), DiagLogLevel.WARN)
  const resource = defaultResource()
    .merge(
      resourceFromAttributes({
        'service.name': 'plinth',
        'service.version': version,
        // each process (each worker of `serve --workers N`) is an instance of its own
        'service.instance.id': randomUUID(),
        ...(options.worker !== undefined ? { 'plinth.worker': options.worker } : {}),
      }),
    )
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over Plinth's defaults
    .merge(detectResources({ detectors: [envDetector] }))
  const processors: SpanProcessor[] = settings.exporters.map((name) => new BatchSpanProcessor({ exporter: exporterFor(name, settings), ...settings.batch }))
  const provider = new TracerProvider({ resource, sampler: samplerFor(settings.sampler), spanProcessors: processors })
  context.setGlobalContextManager(new AsyncLocalStorageContextManager())
  trace.setGlobalTracerProvider(provider)
  const tracer = provider.getTracer('plinth', version)
  const spans = requestSpans(tracer)
  return {
    request: spans.request,
    span: spans.span,
    headers: spans.headers,
    error: spans.error,
    provider: providerSpans(tracer),
    queryLog: (dialect) => queryLog(tracer, dialect),
    async shutdown() {
      await provider.shutdown()
      trace.disable()
      context.disable()
      diag.disable()
    },
  }
}

function exporterFor(name: 'otlp' | 'console', settings: EnabledSettings): SpanExporter {
  if (name === 'console') return new ConsoleSpanExporter()
  const config = { url: settings.endpoint, headers: settings.headers }
  if (settings.protocol === 'http/json') return new OTLPTraceExporter(config)
  // @NOTE the OTLP/HTTP exporter package sends JSON only; protobuf is the same exporter with the
  // protobuf serializer, both from the packages it is built on (what exporter-trace-otlp-proto does)
  return new OTLPExporterBase(
    createOtlpHttpExportDelegate(
      convertLegacyHttpOptions(config, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
      ProtobufTraceSerializer,
      'otlp_http_span_exporter',
      TraceExporterMetricsHelper,
      undefined,
    ),
  ) as unknown as SpanExporter
}

function samplerFor({ name, ratio }: EnabledSettings['sampler']): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler()
    case 'always_off':
      return new AlwaysOffSampler()
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio)
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() })
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) })
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() })
  }
}

/**
 * The SDK's warnings and errors in Plinth's log, at most one line per 30 s: a collector that is
 * down would otherwise be reported on every batch.
 */
function throttledDiagLogger(): DiagLogger {
  let loggedAt = -Infinity
  let suppressed = 0
  const log = (level: 'warn' | 'error') => (message: string, ...args: unknown[]) => {
    const now = performance.now()
    if (now - loggedAt < 30_000) {
      suppressed++
      return
    }
    loggedAt = now
    const detail = args.map((arg) => (arg instanceof Error ? arg.message : typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ')
    tracingLog[level]({ suppressed: suppressed || undefined }, `tracing: ${message}${detail ? ` ${detail}` : ''}`)
    suppressed = 0
  }
  const ignore = () => {}
  return { error: log('error'), warn: log('warn'), info: ignore, debug: ignore, verbose: ignore }
}
