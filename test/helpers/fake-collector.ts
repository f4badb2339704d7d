import http from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A stand-in for an OpenTelemetry collector's OTLP/HTTP receiver: it takes POST /v1/traces,
 * answers 200 as a collector does, and keeps every body. OTLP/JSON bodies are decoded into flat
 * spans; protobuf bodies are kept as bytes.
 */

export type CollectedSpan = {
  traceId: string
  spanId: string
  parentSpanId: string | undefined
  name: string
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client */
  kind: number
  attributes: Record<string, unknown>
  /** OTLP's status code: 0 unset, 1 ok, 2 error */
  status: { code: number; message?: string }
  events: { name: string; attributes: Record<string, unknown> }[]
  resource: Record<string, unknown>
  startNanos: bigint
  endNanos: bigint
}

export type CollectedRequest = { path: string; headers: http.IncomingHttpHeaders; body: Buffer }

export type FakeCollector = {
  /** the base URL, for OTEL_EXPORTER_OTLP_ENDPOINT */
  url: string
  requests: CollectedRequest[]
  /** every span of the JSON bodies received so far */
  spans(): CollectedSpan[]
  close(): Promise<void>
}

export async function startFakeCollector(): Promise<FakeCollector> {
  const requests: CollectedRequest[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      requests.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) })
      const json = String(req.headers['content-type']).includes('json')
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' })
      res.end(json ? '{}' : '')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    spans: () => requests.filter((r) => String(r.headers['content-type']).includes('json')).flatMap((r) => decode(JSON.parse(r.body.toString('utf8')))),
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean; arrayValue?: { values?: AnyValue[] } }
type KeyValue = { key: string; value: AnyValue }

function value(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue
  if (v.intValue !== undefined) return Number(v.intValue)
  if (v.doubleValue !== undefined) return v.doubleValue
  if (v.boolValue !== undefined) return v.boolValue
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(value)
  return undefined
}

function attributes(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, value(kv.value)]))
}

function decode(body: any): CollectedSpan[] {
  const spans: CollectedSpan[] = []
  for (const resourceSpans of body.resourceSpans ?? []) {
    const resource = attributes(resourceSpans.resource?.attributes)
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        spans.push({
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId || undefined,
          name: span.name,
          kind: span.kind,
          attributes: attributes(span.attributes),
          status: { code: span.status?.code ?? 0, message: span.status?.message },
          events: (span.events ?? []).map((e: { name: string; attributes?: KeyValue[] }) => ({ name: e.name, attributes: attributes(e.attributes) })),
          resource,
          startNanos: BigInt(span.startTimeUnixNano),
          endNanos: BigInt(span.endTimeUnixNano),
        })
      }
    }
  }
  return spans
}
