import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeCollector, type FakeCollector } from '../helpers/fake-collector.js'
import { serverProcesses } from '../helpers/server-process.js'

// Tracing in `plinth serve --workers 2` (docs/operations.md, "Tracing (OpenTelemetry)"): each worker
// exports its own spans under its own service.instance.id, and SIGTERM exports what is left. The
// batch delay is far longer than the test, so every span the collector gets was sent on shutdown.
// The protocol asked for is grpc, which Plinth says at start it does not speak: it sends
// http/protobuf, which the collector decodes.

const KEY = 'sk-proj-tracing-workers-00000000000000000'
const servers = serverProcesses(KEY)
let collector: FakeCollector

beforeAll(async () => {
  collector = await startFakeCollector()
})
afterAll(async () => {
  servers.cleanup()
  await collector?.close()
})

describe('tracing with serve --workers 2', () => {
  it('each worker exports its spans on SIGTERM, under its own service.instance.id, over http/protobuf', async () => {
    const dir = servers.dataDir('plinth-tracing-workers-')
    const configFile = path.join(dir, 'config.json')
    fs.writeFileSync(configFile, JSON.stringify({ server: { workers: 2 } }))
    const server = await servers.start(path.join(dir, 'data'), {
      PLINTH_CONFIG: configFile,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_BSP_SCHEDULE_DELAY: '600000',
    })
    const requests = 6
    for (let i = 0; i < requests; i++) {
      // a connection each: the primary hands new connections to the workers in turn
      const response = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify({ model: 'test-echo', messages: [{ role: 'user', content: `hello ${i}` }] }),
      })
      expect(response.status).toBe(200)
      await response.text()
    }
    expect(collector.requests).toHaveLength(0)
    server.child.kill('SIGTERM')
    await server.exited
    expect(collector.requests.length).toBeGreaterThan(0)
    expect(collector.requests.every((r) => r.headers['content-type'] === 'application/x-protobuf' && r.path === '/v1/traces')).toBe(true)
    const spans = collector.spans().filter((s) => s.name === 'POST /v1/chat/completions')
    expect(spans).toHaveLength(requests)
    const byInstance = new Map<unknown, unknown>(spans.map((s) => [s.resource['service.instance.id'], s.resource['plinth.worker']]))
    expect(byInstance.size).toBe(2)
    expect([...byInstance.values()].sort()).toEqual([1, 2])
    expect(spans.every((s) => s.resource['service.name'] === 'plinth' && s.attributes['http.response.status_code'] === 200)).toBe(true)
    // the grpc request was answered with one clear line at start, from each worker
    const warnings = server.output().split('\n').filter((line) => line.includes('OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported'))
    expect(warnings).toHaveLength(2)
    expect(server.output()).toContain('tracing on: spans to')
  })
})
