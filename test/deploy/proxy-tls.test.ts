import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import OpenAI, { toFile } from 'openai'
import { Agent } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serverProcesses, type ServerProcess } from '../helpers/server-process.js'

// The TLS proxy examples, run: nginx (deploy/nginx/plinth.conf) and Caddy (deploy/caddy/Caddyfile)
// terminate TLS with a test CA's certificate in front of a real Plinth process, and the official
// SDK talks to them over https. Each config is the shipped file with only its address, ports and
// certificate substituted; the proxy runs in the foreground with everything it writes in a
// temporary directory. A proxy that is not installed is skipped (.ci/run installs both).

const root = path.resolve(import.meta.dirname, '../..')
const KEY = 'sk-proj-proxy-tls-00000000000000000000000'
const ADMIN = 'sk-admin-proxy-tls-0000000000000000000000'
const SLOW = 'a b c d e f g h i j k l m n o p q r s t u v w x y z'
// the client's own address, unlike Plinth's peer (the proxy, on 127.0.0.1): what trustProxy must find
const CLIENT_ADDRESS = '127.0.0.2'

type Proxy = {
  name: string
  config: string
  binary: string | undefined
  /** Starts the proxy in the foreground, its files in `dir`, in front of Plinth's port. */
  start(dir: string, plinthPort: number): ChildProcess
}

const proxies: Proxy[] = [
  {
    name: 'nginx',
    config: 'deploy/nginx/plinth.conf',
    binary: findBinary('nginx', ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx']),
    start(dir, plinthPort) {
      const conf = renderNginx(dir, plinthPort)
      return spawn(this.binary!, ['-p', dir, '-c', conf, '-e', path.join(dir, 'proxy-error.log')], { stdio: ['ignore', 'pipe', 'pipe'] })
    },
  },
  {
    name: 'Caddy',
    config: 'deploy/caddy/Caddyfile',
    binary: findBinary('caddy', ['/usr/bin/caddy', '/usr/local/bin/caddy']),
    start(dir, plinthPort) {
      const conf = renderCaddy(dir, plinthPort)
      // Caddy keeps its state under XDG_DATA_HOME / XDG_CONFIG_HOME: kept in `dir`
      const env = { ...process.env, HOME: dir, XDG_DATA_HOME: path.join(dir, 'caddy-data'), XDG_CONFIG_HOME: path.join(dir, 'caddy-config') }
      return spawn(this.binary!, ['run', '--config', conf, '--adapter', 'caddyfile'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    },
  },
]

const servers = serverProcesses(KEY)
afterAll(() => servers.cleanup())
let httpsPort: number
let httpPort: number

for (const proxy of proxies) {
  describe.skipIf(!proxy.binary)(`Plinth behind ${proxy.name} (${proxy.config})`, () => {
    if (!proxy.binary) console.warn(`proxy-tls: ${proxy.name} skipped, it is not installed (Debian: apt-get install ${proxy.name.toLowerCase()})`)
    let dir: string
    let plinth: ServerProcess
    let child: ChildProcess | undefined
    let log = ''
    let dispatcher: Agent
    let client: OpenAI
    const sdk = (apiKey: string) =>
      new OpenAI({
        apiKey,
        baseURL: `https://localhost:${httpsPort}/v1`,
        maxRetries: 0,
        fetchOptions: { dispatcher } as OpenAI.RequestOptions['fetchOptions'],
      })
    /** fetch through the test CA's agent, from the client's own address. */
    const fetchVia = (url: string, init: RequestInit = {}) => fetch(url, { ...init, dispatcher } as RequestInit)

    beforeAll(async () => {
      dir = servers.dataDir(`plinth-${proxy.name.toLowerCase()}-`)
      const ca = makeCertificates(dir)
      const script = path.join(dir, 'script.json')
      fs.writeFileSync(script, JSON.stringify({ rules: [{ match: 'slow reply', reply: { content: SLOW, chunk_delay_ms: 100 } }] }))
      const config = path.join(dir, 'config.json')
      fs.writeFileSync(config, JSON.stringify({ server: { trustProxy: 1 }, testModels: { enabled: true, scriptFile: script } }))
      plinth = await servers.start(path.join(dir, 'data'), { PLINTH_CONFIG: config, PLINTH_BOOTSTRAP_ADMIN_KEY: ADMIN })

      httpsPort = await freePort()
      httpPort = await freePort()
      child = proxy.start(dir, Number(new URL(plinth.url).port))
      child.stdout!.on('data', (d) => (log += d))
      child.stderr!.on('data', (d) => (log += d))
      await waitForPort(child, httpsPort, () => `${log}\n${readIfExists(path.join(dir, 'proxy-error.log'))}`)

      // IPv4: the client's address must be 127.0.0.2, which an IPv6 connection cannot have
      dispatcher = new Agent({ connect: { ca, family: 4 }, localAddress: CLIENT_ADDRESS })
      client = sdk(KEY)
    }, 60_000)

    afterAll(async () => {
      // the client's connections first: a proxy stopping gracefully waits for open ones.
      // destroy, not close: close waits for every keep-alive connection to drain (it hung CI once)
      await dispatcher?.destroy()
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child!.once('exit', resolve))
        child.kill(proxy.name === 'nginx' ? 'SIGQUIT' : 'SIGTERM')
        const force = setTimeout(() => child!.kill('SIGKILL'), 5_000)
        await exited
        clearTimeout(force)
      }
    }, 30_000)

    it('answers a chat completion over https', async () => {
      const completion = await client.chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: 'through the proxy' }] })
      expect(completion.object).toBe('chat.completion')
      expect(completion.choices[0].message.content).toBe('through the proxy')
    })

    it('passes a streamed completion chunk by chunk, not buffered until the end', async () => {
      const started = Date.now()
      const stream = await client.chat.completions.create({
        model: 'test-scripted',
        messages: [{ role: 'user', content: 'a slow reply please' }],
        stream: true,
      })
      const arrivals: number[] = []
      let text = ''
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta?.content
        if (!delta) continue
        arrivals.push(Date.now() - started)
        text += delta
      }
      expect(text).toBe(SLOW)
      // 26 words, 100 ms apart: buffered, they would all arrive within a few ms at the end
      expect(arrivals.length).toBeGreaterThan(10)
      expect(arrivals.at(-1)! - arrivals[0]).toBeGreaterThan(1500)
      const half = arrivals[Math.floor(arrivals.length / 2)]
      expect(half - arrivals[0]).toBeGreaterThan(600)
    })

    it('takes a file upload of several MB (above nginx’s default 1 MB limit) and gives it back whole', async () => {
      const bytes = Buffer.from(randomBytes(4 * 1024 * 1024).toString('base64')) // about 5.6 MB of text
      const file = await client.files.create({ file: await toFile(bytes, 'big.txt'), purpose: 'user_data' })
      expect(file.bytes).toBe(bytes.length)
      const back = Buffer.from(await (await client.files.content(file.id)).arrayBuffer())
      expect(sha256(back)).toBe(sha256(bytes))
    })

    it('passes an authentication error through in OpenAI’s shape', async () => {
      const error = await sdk('sk-proj-not-a-real-key-000000000000000').models.list().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
      const auth = error as InstanceType<typeof OpenAI.AuthenticationError>
      expect(auth.status).toBe(401)
      expect(auth.code).toBe('invalid_api_key')
      expect(auth.type).toBe('invalid_request_error')
    })

    it('redirects plain http to https', async () => {
      const answer = await fetchVia(`http://localhost:${httpPort}/v1/models`, { redirect: 'manual' })
      expect([301, 308]).toContain(answer.status)
      expect(answer.headers.get('location')).toMatch(/^https:\/\/localhost(:\d+)?\/v1\/models$/)
    })

    it('with trustProxy, Plinth sees the client’s address and scheme, not the proxy’s nor a forged header', async () => {
      // a failed dashboard sign-in is audited with the client's address
      const signIn = await fetchVia(`https://localhost:${httpsPort}/dashboard/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '198.51.100.7' },
        body: 'key=sk-admin-wrong',
      })
      expect(signIn.status).toBe(401)
      const logs = await fetchVia(`https://localhost:${httpsPort}/v1/organization/audit_logs?event_types[]=login.failed`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      })
      const entries = ((await logs.json()) as { data: { actor: { session: { ip_address: string } } }[] }).data
      expect(entries.map((e) => e.actor.session.ip_address)).toEqual([CLIENT_ADDRESS])

      // image URLs point at the origin the client called: https, with its host and port
      const image = await client.images.generate({ model: 'test-image', prompt: 'a lighthouse', response_format: 'url', size: '256x256' })
      const url = image.data![0].url!
      expect(url.startsWith(`https://localhost:${httpsPort}/`)).toBe(true)
      const picture = await fetchVia(url)
      expect(picture.status).toBe(200)
      expect(picture.headers.get('content-type')).toBe('image/png')
    })

    it('answers OpenAI’s retryable 503 while Plinth is down', async () => {
      await servers.kill(plinth)
      const error = await client.models.list().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(OpenAI.InternalServerError)
      const down = error as InstanceType<typeof OpenAI.InternalServerError>
      expect(down.status).toBe(503)
      expect(down.code).toBe('service_unavailable')
      expect(down.headers.get('x-should-retry')).toBe('true')
    })
  })
}

function findBinary(name: string, candidates: string[]): string | undefined {
  return candidates.find((p) => fs.existsSync(p))
}

/** A CA and a certificate it signed for localhost and 127.0.0.1; answers the CA's PEM. */
function makeCertificates(into: string): string {
  const file = (name: string) => path.join(into, name)
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' })
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=Plinth test CA', '-keyout', file('ca.key'), '-out', file('ca.pem'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost',
    '-keyout', file('server.key'), '-out', file('server.csr'))
  fs.writeFileSync(file('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n')
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-days', '2', '-extfile', file('server.ext'), '-out', file('server.pem'))
  return fs.readFileSync(file('ca.pem'), 'utf8')
}

/**
 * deploy/nginx/plinth.conf with its ports, certificate and Plinth's address replaced (each must
 * be found, so the test fails if the file changes under it), inside a main config like Debian's
 * nginx.conf whose logs, pid and temporary files are in `into`.
 */
function renderNginx(into: string, plinthPort: number): string {
  let site = fs.readFileSync(path.join(root, 'deploy/nginx/plinth.conf'), 'utf8')
  const ipv6 = Object.values(os.networkInterfaces()).some((list) => list?.some((a) => a.address === '::1'))
  const replace = (from: string, to: string) => {
    if (!site.includes(from)) throw new Error(`deploy/nginx/plinth.conf no longer says '${from}'`)
    site = site.replaceAll(from, to)
  }
  replace('server 127.0.0.1:8080;', `server 127.0.0.1:${plinthPort};`)
  replace('listen 80;', `listen 127.0.0.1:${httpPort};`)
  replace('listen [::]:80;', ipv6 ? `listen [::1]:${httpPort};` : '')
  replace('listen 443 ssl http2;', `listen 127.0.0.1:${httpsPort} ssl http2;`)
  replace('listen [::]:443 ssl http2;', ipv6 ? `listen [::1]:${httpsPort} ssl http2;` : '')
  replace('/etc/letsencrypt/live/api.example.com/fullchain.pem', path.join(into, 'server.pem'))
  replace('/etc/letsencrypt/live/api.example.com/privkey.pem', path.join(into, 'server.key'))
  fs.writeFileSync(path.join(into, 'plinth.conf'), site)

  const temp = (name: string) => path.join(into, 'nginx-temp', name)
  const main = `
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
daemon off;
pid ${path.join(into, 'nginx.pid')};
error_log ${path.join(into, 'proxy-error.log')} info;
events { worker_connections 256; }
http {
  sendfile on;
  tcp_nopush on;
  types_hash_max_size 2048;
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  gzip on;
  access_log ${path.join(into, 'nginx-access.log')};
  client_body_temp_path ${temp('body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  include ${path.join(into, 'plinth.conf')};
}
`
  fs.mkdirSync(path.join(into, 'nginx-temp'))
  const file = path.join(into, 'nginx.conf')
  fs.writeFileSync(file, main)
  return file
}

/**
 * deploy/caddy/Caddyfile for localhost with the test certificate, Plinth's port and the test's
 * ports (global options; no admin endpoint, nothing installed into the system's trust store).
 */
function renderCaddy(into: string, plinthPort: number): string {
  let site = fs.readFileSync(path.join(root, 'deploy/caddy/Caddyfile'), 'utf8')
  const replace = (from: string, to: string) => {
    if (!site.includes(from)) throw new Error(`deploy/caddy/Caddyfile no longer says '${from}'`)
    site = site.replaceAll(from, to)
  }
  replace('api.example.com {', `localhost {\n\ttls ${path.join(into, 'server.pem')} ${path.join(into, 'server.key')}`)
  replace('reverse_proxy 127.0.0.1:8080 {', `reverse_proxy 127.0.0.1:${plinthPort} {`)
  const global = `{\n\tadmin off\n\thttp_port ${httpPort}\n\thttps_port ${httpsPort}\n\tskip_install_trust\n}\n`
  const file = path.join(into, 'Caddyfile')
  fs.writeFileSync(file, global + site)
  return file
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

async function waitForPort(child: ChildProcess, port: number, log: () => string) {
  const deadline = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the proxy exited (${child.exitCode}):\n${log()}`)
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (open) return
    if (Date.now() > deadline) throw new Error(`the proxy did not listen on ${port} in 10 s:\n${log()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function readIfExists(file: string) {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
}

function sha256(bytes: Buffer) {
  return createHash('sha256').update(bytes).digest('hex')
}
