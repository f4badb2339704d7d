import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { redisTestUrl } from '../helpers/redis.js'

const root = path.resolve(import.meta.dirname, '../..')
let dir: string | undefined

afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
  dir = undefined
})

function doctor(config: object, env: Record<string, string> = {}) {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-doctor-'))
  const file = path.join(dir, 'plinth.json')
  fs.writeFileSync(file, JSON.stringify({ dataDir: path.join(dir, 'data'), ...config }))
  return new Promise<{ status: number | null; stdout: string }>((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), path.join(root, 'test/cli/run-cli.ts'), 'doctor', '--config', file], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    })
    let stdout = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.on('exit', (status) => resolve({ status, stdout }))
  })
}

/** A port nothing listens on: one the system just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('plinth doctor', () => {
  it('names each missing part and the command that installs it; exits 1 when a required one is missing', async () => {
    const port = await closedPort()
    const { status, stdout } = await doctor({
      codeInterpreter: { python: '/nonexistent/python3' },
      rateLimits: { redisUrl: `redis://127.0.0.1:${port}` },
      upstreams: [{ id: 'gone', baseURL: `http://127.0.0.1:${port}/v1` }],
      models: [{ id: 'local', provider: 'llama-cpp', options: { path: '/nonexistent/model.gguf' } }],
    })
    expect(status).toBe(1)
    expect(stdout).toMatch(/MISSING python3 +\/nonexistent\/python3 not found\n +fix: apt-get install -y python3\n/)
    expect(stdout).toMatch(/ok +sharp \(libvips\) +sharp [\d.]+ with libvips [\d.]+\n/)
    expect(stdout).toMatch(/MISSING pandas .*\n +fix: apt-get install -y --no-install-recommends python3-pandas\n/)
    expect(stdout).toMatch(new RegExp(`MISSING Redis +redis://127\\.0\\.0\\.1:${port}: .*\\n +fix: apt-get install -y redis-server`))
    expect(stdout).toMatch(new RegExp(`MISSING upstream gone +http://127\\.0\\.0\\.1:${port}/v1/models unreachable: .*ECONNREFUSED`))
    expect(stdout).toMatch(/MISSING model local +\/nonexistent\/model\.gguf not found/)
    expect(stdout).toContain('3 required part(s) missing: Redis, model local, upstream gone.')
    expect(stdout).toMatch(/- +tracing \(OpenTelemetry\) +off: no OTEL_TRACES_EXPORTER or OTEL_EXPORTER_OTLP_ENDPOINT set\n/)
    expect(stdout).toContain('To install every missing package: apt-get install -y --no-install-recommends python3 python3-numpy python3-pandas python3-matplotlib')
  }, 30_000)

  it('exits 0 when only optional parts (the sandbox) are missing, and checks PostgreSQL and Redis when set', async () => {
    const env: Record<string, string> = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }
    if (process.env.TEST_PG_URL) env.PLINTH_DATABASE_URL = process.env.TEST_PG_URL
    if (redisTestUrl()) env.PLINTH_REDIS_URL = redisTestUrl()!
    const { status, stdout } = await doctor({ codeInterpreter: { python: '/nonexistent/python3' } }, env)
    expect(status).toBe(0)
    expect(stdout).toContain('All required parts are fine.')
    expect(stdout).toMatch(/Optional parts missing \(Code interpreter.*\): python3, numpy, pandas, matplotlib\./)
    expect(stdout).toMatch(process.env.TEST_PG_URL ? /ok +PostgreSQL +postgres:\/\/plinth:\*\*\*@.* \(PostgreSQL \d+/ : /ok +SQLite/)
    // the offline speech engines, installed on this host (.ci/run)
    expect(stdout).toMatch(/ok +flite +\/.*flite \(speech synthesis\)/)
    expect(stdout).toMatch(/ok +ffmpeg +\/.*ffmpeg \(audio encoding\)/)
    expect(stdout).toMatch(/ok +tracing \(OpenTelemetry\) +spans to http:\/\/collector:4318\/v1\/traces \(http\/protobuf\), sampler parentbased_always_on; OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported/)
    expect(stdout).toMatch(redisTestUrl() ? /ok +Redis +redis:\/\/.* \(PONG\)/ : /- +Redis +not configured/)
  }, 30_000)
})
