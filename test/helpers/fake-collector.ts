import http from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A stand-in for an OpenTelemetry collector's OTLP/HTTP receiver: it takes POST /v1/traces,
 * answers 200 as a collector does, and keeps every body. Both OTLP encodings, JSON and protobuf,
 * are decoded into flat spans (the protobuf decoder reads only the fields the tests look at).
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
  /** every span received so far */
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
    spans: () =>
      requests.flatMap((r) =>
        String(r.headers['content-type']).includes('json') ? decode(JSON.parse(r.body.toString('utf8'))) : decode(protobufRequest(r.body)),
      ),
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

/**
 * An ExportTraceServiceRequest in protobuf, as the JSON encoding's objects (opentelemetry-proto's
 * trace.proto and common.proto field numbers), for `decode`.
 */
function protobufRequest(bytes: Buffer) {
  const keyValues = (list: Buffer[]) => list.map((kv) => {
    const f = fields(kv)
    return { key: text(f.get(1)?.[0]), value: anyValue(f.get(2)?.[0] as Buffer) }
  })
  return {
    resourceSpans: (fields(bytes).get(1) ?? []).map((rs) => {
      const r = fields(rs as Buffer)
      const resource = r.get(1)?.[0] as Buffer | undefined
      return {
        resource: { attributes: keyValues((resource ? fields(resource).get(1) : []) as Buffer[]) },
        scopeSpans: (r.get(2) ?? []).map((ss) => ({
          spans: (fields(ss as Buffer).get(2) ?? []).map((sp) => {
            const s = fields(sp as Buffer)
            const status = s.get(15)?.[0] as Buffer | undefined
            return {
              traceId: hex(s.get(1)?.[0]),
              spanId: hex(s.get(2)?.[0]),
              parentSpanId: hex(s.get(4)?.[0]),
              name: text(s.get(5)?.[0]),
              kind: Number(s.get(6)?.[0] ?? 0),
              startTimeUnixNano: String((s.get(7)?.[0] as Buffer | undefined)?.readBigUInt64LE(0) ?? 0),
              endTimeUnixNano: String((s.get(8)?.[0] as Buffer | undefined)?.readBigUInt64LE(0) ?? 0),
              attributes: keyValues((s.get(9) ?? []) as Buffer[]),
              status: status ? { code: Number(fields(status).get(3)?.[0] ?? 0), message: text(fields(status).get(2)?.[0]) } : undefined,
            }
          }),
        })),
      }
    }),
  }
}

function anyValue(bytes: Buffer | undefined): AnyValue {
  if (!bytes) return {}
  const f = fields(bytes)
  if (f.has(1)) return { stringValue: text(f.get(1)![0]) }
  if (f.has(2)) return { boolValue: f.get(2)![0] === 1n }
  if (f.has(3)) return { intValue: String(BigInt.asIntN(64, f.get(3)![0] as bigint)) }
  if (f.has(4)) return { doubleValue: (f.get(4)![0] as Buffer).readDoubleLE(0) }
  return {}
}

const text = (value: Buffer | bigint | undefined) => (Buffer.isBuffer(value) ? value.toString('utf8') : '')
const hex = (value: Buffer | bigint | undefined) => (Buffer.isBuffer(value) ? value.toString('hex') : '')

/** A protobuf message's fields by number: varints as bigint, the rest as bytes. */
function fields(bytes: Buffer): Map<number, (Buffer | bigint)[]> {
  const out = new Map<number, (Buffer | bigint)[]>()
  let at = 0
  const varint = () => {
    let result = 0n
    let shift = 0n
    for (;;) {
      const byte = bytes[at++]
      result |= BigInt(byte & 0x7f) << shift
      if (byte < 0x80) return result
      shift += 7n
    }
  }
  while (at < bytes.length) {
    const tag = Number(varint())
    const field = tag >>> 3
    let value: Buffer | bigint
    switch (tag & 7) {
      case 0:
        value = varint()
        break
      case 1:
        // fixed64 (timestamps) and doubles: their bytes, read where their type is known
        value = bytes.subarray(at, at + 8)
        at += 8
        break
      case 2: {
        const length = Number(varint())
        value = bytes.subarray(at, at + length)
        at += length
        break
      }
      case 5:
        value = bytes.subarray(at, at + 4)
        at += 4
        break
      default:
        throw new Error(`protobuf wire type ${tag & 7} at byte ${at}`)
    }
    out.set(field, [...(out.get(field) ?? []), value])
  }
  return out
}
