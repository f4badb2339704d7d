import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const root = path.resolve(import.meta.dirname, '../..')
const tsx = path.join(root, 'node_modules/tsx/dist/cli.mjs')
const entry = path.join(root, 'test/cli/run-cli.ts')
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-cli-'))
const env = { ...process.env, PLINTH_LOG_LEVEL: 'info' }
delete (env as Record<string, string | undefined>).PLINTH_BOOTSTRAP_ADMIN_KEY
delete (env as Record<string, string | undefined>).PLINTH_BOOTSTRAP_PROJECT_KEY

type Started = { child: ChildProcess; url: string; output: () => string; exited: Promise<number | null> }

/** Runs `plinth serve` from the sources in a real process, as `npm start` does from the build. */
function startServer(args: string[] = [], extraEnv: Record<string, string> = {}, dir = dataDir): Promise<Started> {
  const child = spawn(process.execPath, [tsx, entry, 'serve', '--port', '0', '--data-dir', dir, ...args], {
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line in 20 s:\n${output}`)), 20_000)
    child.stdout!.on('data', () => {
      const match = /Plinth ready on (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve({ child, url: match[1], output: () => output, exited })
      }
    })
    exited.then((code) => reject(new Error(`exited with ${code}:\n${output}`)))
  })
}

function cli(args: string[]) {
  return spawnSync(process.execPath, [tsx, entry, ...args, '--data-dir', dataDir], { env, encoding: 'utf8' })
}

async function models(url: string, key: string) {
  return fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })
}

afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }))

describe('plinth serve and the CLI, as real processes', () => {
  let projectKey = ''
  let adminKey = ''

  it('prints the keys once on first start, serves with them, and stops cleanly on SIGTERM', async () => {
    const server = await startServer()
    projectKey = /sk-proj-[A-Za-z0-9_-]{40,}/.exec(server.output())![0]
    adminKey = /sk-admin-[A-Za-z0-9_-]{40,}/.exec(server.output())![0]
    expect((await models(server.url, projectKey)).status).toBe(200)
    expect((await models(server.url, adminKey)).status).toBe(403)
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    expect(server.output()).toContain('stopped')
  })

  it('stores keys hashed: no secret appears in the database files', () => {
    for (const file of fs.readdirSync(dataDir).filter((f) => f.startsWith('plinth.db'))) {
      const bytes = fs.readFileSync(path.join(dataDir, file)).toString('latin1')
      expect(bytes).not.toContain(projectKey)
      expect(bytes).not.toContain(adminKey)
    }
  })

  it('does not print keys again on a later start, and the saved key still works', async () => {
    const server = await startServer()
    expect(server.output()).not.toMatch(/sk-(proj|admin)-[A-Za-z0-9_-]{40,}/)
    expect((await models(server.url, projectKey)).status).toBe(200)
    server.child.kill('SIGINT')
    expect(await server.exited).toBe(0)
  })

  it('keys create prints a working key once; keys list shows only redacted values', async () => {
    const created = cli(['keys', 'create', '--project', 'default', '--name', 'ci'])
    expect(created.status).toBe(0)
    const key = created.stdout.trim()
    expect(key).toMatch(/^sk-proj-/)
    const listed = cli(['keys', 'list'])
    expect(listed.status).toBe(0)
    expect(listed.stdout).toContain('ci')
    expect(listed.stdout).not.toContain(key)
    expect(listed.stdout).not.toContain(projectKey)
    const server = await startServer()
    expect((await models(server.url, key)).status).toBe(200)
    server.child.kill('SIGTERM')
    await server.exited
  })

  it('fails fast with a readable message on bad configuration', () => {
    const result = spawnSync(process.execPath, [tsx, entry, 'serve', '--port', '99999'], { env, encoding: 'utf8' })
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('--port must be 0-65535')
    const bad = spawnSync(process.execPath, [tsx, entry, 'serve', '--data-dir', dataDir], {
      env: { ...env, PLINTH_CONFIG: path.join(dataDir, 'missing.json') },
      encoding: 'utf8',
    })
    expect(bad.status).toBe(1)
    expect(bad.stderr).toContain('cannot read config file')
  })

  it('on a busy port, says so in one line and exits 1 before creating anything', async () => {
    const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-cli-busy-'))
    const holder = net.createServer()
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
    const port = (holder.address() as net.AddressInfo).port
    try {
      const result = spawnSync(process.execPath, [tsx, entry, 'serve', '--port', String(port), '--data-dir', fresh], { env, encoding: 'utf8' })
      expect(result.status).toBe(1)
      expect(result.stderr.trim()).toBe(
        `plinth: port 127.0.0.1:${port} is already in use. Stop what holds it, or start Plinth on another port: plinth serve --port N (or PLINTH_PORT=N).`,
      )
      expect(result.stderr).not.toContain('    at ')
      // no organization, no keys: the next start on a free port is a first start that prints them
      expect(fs.readdirSync(fresh).filter((f) => f.startsWith('plinth.db'))).toEqual([])
    } finally {
      holder.close()
    }
    const server = await startServer([], {}, fresh)
    expect(server.output()).toMatch(/sk-proj-[A-Za-z0-9_-]{40,}/)
    server.child.kill('SIGTERM')
    await server.exited
    fs.rmSync(fresh, { recursive: true, force: true })
  })

  it('uses PLINTH_BOOTSTRAP_* keys when the organization is first created', async () => {
    const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-cli-boot-'))
    const key = 'sk-proj-bootstrap-test-key-000000000000'
    const child = spawn(process.execPath, [tsx, entry, 'serve', '--port', '0', '--data-dir', fresh], {
      env: { ...env, PLINTH_BOOTSTRAP_PROJECT_KEY: key, PLINTH_BOOTSTRAP_ADMIN_KEY: 'sk-admin-bootstrap-test-key-00000000000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout!.on('data', (d) => (output += d))
    const url = await new Promise<string>((resolve) => {
      child.stdout!.on('data', () => {
        const m = /Plinth ready on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
        if (m) resolve(m[1])
      })
    })
    expect((await models(url, key)).status).toBe(200)
    child.kill('SIGTERM')
    await new Promise((r) => child.on('exit', r))
    fs.rmSync(fresh, { recursive: true, force: true })
  })

  it('loads the tokenizer and, with local models, llama.cpp before it is ready', async () => {
    // no request may pay these loads (170-250 ms of the event loop each): they come before the
    // ready line. The model is linked from ../shared, never copied.
    const modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-cli-models-'))
    fs.symlinkSync(path.resolve(root, '../shared/models/stories260K.gguf'), path.join(modelsDir, 'stories.gguf'))
    const config = path.join(modelsDir, 'config.json')
    fs.writeFileSync(config, JSON.stringify({ llama: { modelsDir } }))
    try {
      const server = await startServer(['--config', config])
      const output = server.output()
      const loaded = output.indexOf('llama.cpp runtime loaded')
      expect(loaded, output).toBeGreaterThanOrEqual(0)
      expect(loaded).toBeLessThan(output.indexOf('Plinth ready on'))
      server.child.kill('SIGTERM')
      expect(await server.exited).toBe(0)
    } finally {
      fs.rmSync(modelsDir, { recursive: true, force: true })
    }
  }, 60_000)
})
