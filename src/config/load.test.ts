import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from './load.js'

function tempConfig(content: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-config-'))
  const file = path.join(dir, 'plinth.json')
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content))
  return file
}

describe('loadConfig', () => {
  it('has working defaults: 127.0.0.1:8080, ./data, SQLite, test models on', () => {
    const config = loadConfig({})
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 8080 })
    expect(config.dataDir).toBe('./data')
    expect(config.databaseUrl).toBeUndefined()
    expect(config.testModels.enabled).toBe(true)
    expect(Object.isFrozen(config.server)).toBe(true)
  })

  it('merges defaults < file < env < flags', () => {
    const file = tempConfig({ server: { port: 9000, host: '0.0.0.0' }, dataDir: '/srv/a' })
    const env = { PLINTH_CONFIG: file, PLINTH_PORT: '9100', PLINTH_DATA_DIR: '/srv/b' }
    expect(loadConfig(env).server).toMatchObject({ port: 9100, host: '0.0.0.0' })
    expect(loadConfig(env).dataDir).toBe('/srv/b')
    expect(loadConfig(env, { port: 9200, dataDir: '/srv/c' })).toMatchObject({ server: { port: 9200 }, dataDir: '/srv/c' })
  })

  it('takes bootstrap keys and the database url from env', () => {
    const config = loadConfig({
      PLINTH_BOOTSTRAP_ADMIN_KEY: 'sk-admin-aaaaaaaaaaaaaaaaaaaa',
      PLINTH_BOOTSTRAP_PROJECT_KEY: 'sk-proj-bbbbbbbbbbbbbbbbbbbb',
      PLINTH_DATABASE_URL: 'postgres://u:p@127.0.0.1/db',
      PLINTH_TEST_MODELS: '0',
      PLINTH_CODE_INTERPRETER: 'false',
    })
    expect(config.bootstrap).toEqual({ adminKey: 'sk-admin-aaaaaaaaaaaaaaaaaaaa', projectKey: 'sk-proj-bbbbbbbbbbbbbbbbbbbb' })
    expect(config.databaseUrl).toBe('postgres://u:p@127.0.0.1/db')
    expect(config.testModels.enabled).toBe(false)
    expect(config.codeInterpreter.enabled).toBe(false)
    expect(loadConfig({}).codeInterpreter).toMatchObject({
      enabled: true,
      python: '/usr/bin/python3',
      idleTimeoutMs: 3_600_000,
      memoryBytes: 1024 ** 3,
      maxSessions: 8,
    })
  })

  it('lists every problem in readable form', () => {
    const file = tempConfig({ server: { port: 70000 }, models: [{ id: 'x', provider: 'nope' }], bogus: 1 })
    let message = ''
    try {
      loadConfig({ PLINTH_CONFIG: file })
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError)
      message = (error as Error).message
    }
    expect(message).toContain('server.port')
    expect(message).toContain('models.0.provider')
    expect(message).toContain('bogus')
  })

  it('takes the client certificate header (mutual TLS) from env; unset by default', () => {
    expect(loadConfig({}).server.clientCertificateHeader).toBeUndefined()
    expect(loadConfig({ PLINTH_CLIENT_CERTIFICATE_HEADER: 'X-SSL-Client-Cert' }).server.clientCertificateHeader).toBe(
      'X-SSL-Client-Cert',
    )
  })

  it('rejects bad env values and unreadable files clearly', () => {
    expect(() => loadConfig({ PLINTH_PORT: 'eighty' })).toThrow(/PLINTH_PORT must be an integer/)
    expect(() => loadConfig({ PLINTH_CONFIG: '/nonexistent/plinth.json' })).toThrow(/cannot read config file/)
    expect(() => loadConfig({ PLINTH_CONFIG: tempConfig('{ not json') })).toThrow(/not valid JSON/)
    expect(() => loadConfig({ PLINTH_BOOTSTRAP_ADMIN_KEY: 'sk-proj-wrongprefix0000000' })).toThrow(/bootstrap.adminKey/)
  })

  it('resolves the script file relative to the config file', () => {
    const file = tempConfig({ testModels: { scriptFile: 'rules.json' } })
    expect(loadConfig({ PLINTH_CONFIG: file }).testModels.scriptFile).toBe(path.join(path.dirname(file), 'rules.json'))
  })
})

describe('loadConfig reports every mistake at once', () => {
  it('lists the environment, schema and cross-reference mistakes together', () => {
    const file = tempConfig({ server: { port: 'abc', bogus: 1 }, log: { level: 'loud' } })
    let message = ''
    try {
      loadConfig({ PLINTH_CONFIG: file, PLINTH_BATCH_CONCURRENCY: '1.5', PLINTH_JOBS_LEASE_SECONDS: 'x' })
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError)
      message = (error as Error).message
    }
    for (const part of ['PLINTH_BATCH_CONCURRENCY', 'PLINTH_JOBS_LEASE_SECONDS', 'server.port', 'Unrecognized key: "bogus"', 'log.level']) {
      expect(message).toContain(part)
    }
  })

  it('checks references between sections once the shapes are right', () => {
    const file = tempConfig({
      upstreams: [{ id: 'a', baseURL: 'http://127.0.0.1:1' }, { id: 'a', baseURL: 'http://127.0.0.1:2' }],
      models: [
        { id: 'm', provider: 'openai-compatible', upstream: 'nope' },
        { id: 'm', provider: 'openai-compatible', upstream: 'a' },
        { id: 'n', provider: 'openai-compatible' },
      ],
    })
    expect(() => loadConfig({ PLINTH_CONFIG: file })).toThrow(
      [
        'invalid configuration:',
        "  - upstreams.1.id: 'a' is used by another upstream",
        "  - models.0.upstream: 'nope' is not the id of any of upstreams[]",
        "  - models.1.id: 'm' is configured twice",
        '  - models.2.upstream: an openai-compatible model needs the id of one of upstreams[]',
      ].join('\n'),
    )
  })
})
