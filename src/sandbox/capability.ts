import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import type { CodeInterpreterConfig } from '../config/schema.js'
import { SECCOMP_FD, sandboxArgv } from './command.js'
import { buildSeccompFilter, seccompSupported } from './seccomp.js'

/** One part the sandbox needs, checked on this host. */
export type CapabilityCheck = {
  name: string
  ok: boolean
  detail: string
  /** The one command that installs or enables it, when it is missing. */
  fix?: string
}

export type SandboxReport = { ok: boolean; checks: CapabilityCheck[] }

const SEARCH_PATH = ['/usr/bin', '/bin', '/usr/sbin', '/sbin']
const PACKAGES = { numpy: 'python3-numpy', pandas: 'python3-pandas', matplotlib: 'python3-matplotlib' }
const PROBE_TIMEOUT_MS = 30_000

// Imports each package inside the real sandbox and prints what failed.
const PROBE = `
import json
result = {}
for name in ${JSON.stringify(Object.keys(PACKAGES))}:
    try:
        __import__(name)
        result[name] = None
    except BaseException as error:
        result[name] = '%s: %s' % (type(error).__name__, error)
print(json.dumps(result))
`

/**
 * Whether this host can run the code interpreter's sandbox: the tools exist, and a real sandbox
 * (the same command line the sessions use, seccomp included) starts and imports numpy, pandas
 * and matplotlib. Spawns one short-lived sandbox; never runs anything unsandboxed.
 */
export async function checkSandbox(config: CodeInterpreterConfig): Promise<SandboxReport> {
  const checks: CapabilityCheck[] = []
  const add = (check: CapabilityCheck) => checks.push(check)
  if (process.platform !== 'linux') {
    add({ name: 'Linux', ok: false, detail: `the sandbox needs Linux (this is ${process.platform})` })
    return { ok: false, checks }
  }
  add(
    seccompSupported()
      ? { name: 'seccomp filter', ok: true, detail: `built for ${process.arch}` }
      : { name: 'seccomp filter', ok: false, detail: `no filter for ${process.arch} (x64 and arm64 only)` },
  )
  const asRoot = process.getuid?.() === 0
  const tools: [string, string, string][] = [
    ['bwrap', 'bubblewrap', 'apt-get install -y --no-install-recommends bubblewrap'],
    ['prlimit', 'prlimit (util-linux)', 'apt-get install -y util-linux'],
  ]
  if (asRoot) tools.push(['setpriv', 'setpriv (util-linux)', 'apt-get install -y util-linux'])
  for (const [command, name, fix] of tools) {
    const found = await findCommand(command)
    add(found ? { name, ok: true, detail: found } : { name, ok: false, detail: `${command} not found`, fix })
  }
  const python = await executable(config.python)
  add(
    python
      ? { name: 'python3', ok: true, detail: config.python }
      : { name: 'python3', ok: false, detail: `${config.python} not found`, fix: 'apt-get install -y python3' },
  )
  if (!checks.every((check) => check.ok)) {
    for (const [name, pkg] of Object.entries(PACKAGES)) {
      add({ name, ok: false, detail: 'not checked (the sandbox cannot start)', fix: installCommand([pkg]) })
    }
    return { ok: false, checks }
  }
  const probe = await runProbe(config, asRoot)
  if (!probe.ok) {
    add({ name: 'sandbox start (user namespaces)', ok: false, detail: probe.detail, fix: await userNamespaceFix() })
    return { ok: false, checks }
  }
  add({ name: 'sandbox start (user namespaces)', ok: true, detail: `bwrap ran ${config.python}` })
  for (const [name, pkg] of Object.entries(PACKAGES)) {
    const error = probe.modules[name]
    add(
      error === null
        ? { name, ok: true, detail: 'importable in the sandbox' }
        : { name, ok: false, detail: error ?? 'not reported', fix: installCommand([pkg]) },
    )
  }
  return { ok: checks.every((check) => check.ok), checks }
}

/** The message of the error the code interpreter fails with: what is missing, and how to fix it. */
export function describeMissing(report: SandboxReport): string {
  const missing = report.checks.filter((check) => !check.ok)
  const parts = missing.map((check) => `${check.name} (${check.detail})${check.fix ? `: ${check.fix}` : ''}`)
  return `The code interpreter cannot run on this server: ${parts.join('; ')}. Run \`plinth doctor\` for details.`
}

function installCommand(packages: string[]): string {
  return `apt-get install -y --no-install-recommends ${packages.join(' ')}`
}

async function executable(path: string): Promise<boolean> {
  try {
    await fs.access(path, fs.constants.X_OK)
    return true
  } catch {
    return false
  }
}

async function findCommand(name: string): Promise<string | undefined> {
  for (const dir of SEARCH_PATH) if (await executable(`${dir}/${name}`)) return `${dir}/${name}`
  return undefined
}

type Probe = { ok: true; modules: Record<string, string | null> } | { ok: false; detail: string }

function runProbe(config: CodeInterpreterConfig, asRoot: boolean): Promise<Probe> {
  const [command, ...args] = sandboxArgv(config, PROBE, asRoot)
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'pipe'],
      detached: true,
      env: { PATH: SEARCH_PATH.join(':') },
    })
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8').slice(0, 65536)))
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8').slice(0, 65536)))
    const seccomp = child.stdio[SECCOMP_FD] as NodeJS.WritableStream & { on(e: 'error', f: () => void): void }
    seccomp.on('error', () => {})
    seccomp.end(buildSeccompFilter())
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {}
    }, PROBE_TIMEOUT_MS)
    child.on('error', (error) => (stderr += error.message))
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      try {
        const modules = JSON.parse(stdout.trim().split('\n').pop() ?? '')
        if (code === 0 && modules && typeof modules === 'object') return resolve({ ok: true, modules })
      } catch {}
      const status = signal ? `signal ${signal}` : `exit code ${code}`
      resolve({ ok: false, detail: `bwrap failed (${status}): ${stderr.trim().slice(0, 500) || 'no output'}` })
    })
  })
}

/** What enables unprivileged user namespaces, from the sysctl that is blocking them. */
async function userNamespaceFix(): Promise<string> {
  const read = async (path: string) => (await fs.readFile(path, 'utf8').catch(() => '')).trim()
  if ((await read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns')) === '1') {
    return 'sysctl -w kernel.apparmor_restrict_unprivileged_userns=0'
  }
  if ((await read('/proc/sys/kernel/unprivileged_userns_clone')) === '0') {
    return 'sysctl -w kernel.unprivileged_userns_clone=1'
  }
  if ((await read('/proc/sys/user/max_user_namespaces')) === '0') return 'sysctl -w user.max_user_namespaces=15000'
  // systempaths: bwrap mounts a new /proc, which the kernel refuses while the container's own has
  // masked parts (podman 4.3 in deploy/test-container.sh: "Can't mount proc on /newroot/proc")
  return 'allow user namespaces and a /proc mount (in Docker or podman: run with --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined)'
}
