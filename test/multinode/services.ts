import { execFile, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** The newest PostgreSQL server binaries Debian installed, if any. */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql'
  if (!fs.existsSync(root)) return undefined
  const versions = fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin/initdb')))
  versions.sort((a, b) => Number(b) - Number(a))
  return versions[0] ? path.join(root, versions[0], 'bin') : undefined
}

/** Whether `redis-server` is on the PATH. */
export function hasRedisServer(): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => fs.existsSync(path.join(dir, 'redis-server')))
}

/** A free loopback port (the kernel picks it; a race with another process is unlikely). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/**
 * A PostgreSQL instance of the test's own (initdb in a temp dir, its own port and socket dir), so
 * that stopping it disturbs no other suite on the machine's shared cluster. As root (CI) it runs
 * as the `postgres` user; otherwise as the current user.
 */
export async function privatePostgres(bin: string) {
  const root = process.getuid?.() === 0
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-chaos-pg-'))
  const data = path.join(dir, 'data')
  if (root) fs.chownSync(dir, ...postgresIds())
  const port = await freePort()
  const as = (command: string, args: string[]) =>
    root ? run('runuser', ['-u', 'postgres', '--', path.join(bin, command), ...args], { cwd: '/' }) : run(path.join(bin, command), args)
  await as('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-instructions'])
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`
  const pgctl = (...args: string[]) => as('pg_ctl', ['-D', data, '-w', '-t', '30', ...args])
  const start = () => pgctl('-l', path.join(dir, 'log'), '-o', options, 'start')
  await start()
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    /** fast shutdown: every session gets "terminating connection due to administrator command" */
    stop: () => pgctl('-m', 'fast', 'stop'),
    async cleanup() {
      await pgctl('-m', 'immediate', 'stop').catch(() => undefined)
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

function postgresIds(): [number, number] {
  const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'))
  if (!line) throw new Error('no postgres user')
  const [, , uid, gid] = line.split(':')
  return [Number(uid), Number(gid)]
}

/** A redis-server of the test's own, a child process without persistence. */
export async function privateRedis() {
  const port = await freePort()
  let child: ChildProcess | undefined
  const start = async () => {
    const started = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    started.on('error', () => undefined)
    child = started
    await new Promise<void>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10_000)
      started.stdout!.on('data', (d) => {
        out += d
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer)
          resolve()
        }
      })
      started.on('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${out}`)))
    })
  }
  const stop = async () => {
    const current = child
    if (!current || current.exitCode !== null) return
    const exited = new Promise((resolve) => current.on('exit', resolve))
    current.kill('SIGTERM')
    await exited
  }
  await start()
  return { url: `redis://127.0.0.1:${port}`, start, stop, cleanup: stop }
}
