// The peers of `npm run bench:peers`: other gateways from npm, installed at bench time into a
// folder under the system's temporary directory (never dependencies of Plinth), one folder per
// package and version, kept so that the next run starts at once. Each is started as its own
// process against the benchmark's fake upstream, with the settings it needs to proxy an
// OpenAI-compatible server there, streams included.
import { spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { startServer, type Server } from './gateway-setup.js'

export type PeerSpec = {
  name: string
  pkg: string
  version: string
  /** npm overrides for the peer's own dependencies, where the newest in range breaks it */
  overrides?: Record<string, string>
  /** The peer's entry and arguments; `dir` is the installed folder, `work` a scratch one. */
  command(dir: string, work: string, port: number, upstreamUrl: string): string[]
  /** The chat completions path, and the headers each request needs besides auth. */
  path: string
  headers(upstreamUrl: string): Record<string, string>
}

export type RunningPeer = { spec: PeerSpec; server: Server; url: string; headers: Record<string, string> }

export const PEERS: PeerSpec[] = [
  {
    name: 'portkey',
    pkg: '@portkey-ai/gateway',
    version: '1.15.2',
    // Streams answer 500 "Something went wrong" with the @hono/node-server npm picks in
    // ^1.3.3 (1.19.x): Portkey appends its x-portkey-* headers to a response built on the
    // upstream's fetch response, whose headers are immutable there ("TypeError: immutable",
    // Portkey issue #1389: every version after 1.14.2). Portkey's own lockfile has 1.13.5.
    overrides: { '@hono/node-server': '1.13.5' },
    // --headless: no web console and no log stream for it
    command: (dir, _work, port) => [path.join(dir, 'node_modules/@portkey-ai/gateway/build/start-server.js'), '--headless', `--port=${port}`],
    path: '/v1/chat/completions',
    // its README's way to reach an OpenAI-compatible server: the openai provider at a custom host
    headers: (upstreamUrl) => ({ 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upstreamUrl}/v1` }),
  },
  {
    name: 'nullplatform',
    pkg: '@nullplatform/llm-gateway',
    version: '2.0.11',
    // its SDK 2.0.2 asks for itself at ^1.0.0, a version no longer on the registry
    overrides: { '@nullplatform/llm-gateway-sdk': '2.0.2' },
    command: (dir, work, port, upstreamUrl) => {
      const config = path.join(work, 'nullplatform.json')
      fs.writeFileSync(
        config,
        JSON.stringify({
          server: { host: '127.0.0.1', port },
          // warn: at info it logs a line per request
          logging: { level: 'warn', format: 'json' },
          monitoring: { enabled: false },
          models: [{ name: 'bench-model', isDefault: true, provider: { type: 'openai', config: { baseUrl: `${upstreamUrl}/v1`, apiKey: 'sk-upstream', model: 'bench-model' } } }],
        }),
      )
      return [path.join(dir, 'node_modules/@nullplatform/llm-gateway/dist/cli.js'), 'start', '--config', config]
    },
    path: '/openai/v1/chat/completions',
    headers: () => ({}),
  },
]

const cacheRoot = path.join(os.tmpdir(), 'plinth-bench-peers')

/**
 * The peer's install folder, installed now if it is not there yet; one folder per version and
 * set of overrides. npm installs into a folder of this process's own and renames it into place, so
 * two benchmarks starting at once do not install into the same folder.
 */
export function installPeer(spec: PeerSpec): string {
  const overrides = spec.overrides ?? {}
  const manifest = JSON.stringify({ private: true, dependencies: { [spec.pkg]: spec.version }, overrides }, null, 2)
  const variant = Object.keys(overrides).length ? `-${crypto.createHash('sha256').update(JSON.stringify(overrides)).digest('hex').slice(0, 8)}` : ''
  const dir = path.join(cacheRoot, `${spec.pkg.replace('/', '+')}@${spec.version}${variant}`)
  const installed = (folder: string) => fs.existsSync(path.join(folder, '.installed')) && fs.readFileSync(path.join(folder, 'package.json'), 'utf8') === manifest
  if (installed(dir)) return dir
  const staging = `${dir}.${process.pid}`
  fs.rmSync(staging, { recursive: true, force: true })
  fs.mkdirSync(staging, { recursive: true })
  fs.writeFileSync(path.join(staging, 'package.json'), manifest)
  console.error(`installing ${spec.pkg}@${spec.version} into ${dir}`)
  // --ignore-scripts: neither needs one (Portkey's postinstall is patch-package, with no patches
  // in its published package), and nothing from outside the registry is fetched
  const result = spawnSync('npm', ['install', '--prefix', staging, '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { stdio: 'inherit' })
  if (result.status !== 0) throw new Error(`npm install ${spec.pkg}@${spec.version} failed (${result.status ?? result.signal})`)
  fs.writeFileSync(path.join(staging, '.installed'), new Date().toISOString())
  fs.rmSync(dir, { recursive: true, force: true })
  try {
    fs.renameSync(staging, dir)
  } catch (error) {
    // another run put its copy there first
    if (!installed(dir)) throw error
    fs.rmSync(staging, { recursive: true, force: true })
  }
  return dir
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

/** Installs (or finds) and starts a peer; stopAll() of gateway-setup ends it with the others. */
export async function startPeer(spec: PeerSpec, upstreamUrl: string, work: string): Promise<RunningPeer> {
  const dir = installPeer(spec)
  const port = await freePort()
  const launcher = path.join(import.meta.dirname, 'peer-launch.mjs')
  // their console output (banners, spinners) is dropped, the errors they log reach stderr
  const server = await startServer([launcher, String(port), ...spec.command(dir, work, port, upstreamUrl)], {}, () => {})
  return { spec, server, url: `http://127.0.0.1:${port}${spec.path}`, headers: spec.headers(upstreamUrl) }
}
