import cluster from 'node:cluster'
import { ApiError } from './errors.js'
import { commandUsage, parseCommandLine, UsageError } from './cli-usage.js'
import { loadConfig, ConfigError } from './config/load.js'
import { cliActor, createAdminServices } from './domain/organization/index.js'
import { KeysService } from './domain/organization/keys.js'
import { parseKeyPermissions } from './schemas/key-permissions.js'
import type { OrganizationRow } from './storage/repositories/organizations.js'
import type { Storage } from './storage/storage.js'
import { bootstrapOrganization } from './domain/organization/bootstrap.js'
import { createRepos } from './storage/repositories/index.js'
import { storageConfigFor } from './storage/dialect.js'
import { openStorage } from './storage/storage.js'
import { PortError, serve } from './main.js'
import { WorkerStartError } from './cluster.js'
import { setLogLevel } from './logger.js'
import { DownloadError, pull } from './providers/llama-cpp/pull/pull.js'
import { formatDoctor, runDoctor } from './doctor.js'
import { backup, BackupError, restore } from './backup.js'

export async function main(argv: string[]): Promise<void> {
  try {
    await run(argv)
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`plinth: ${error.message}\n\n${error.usage}`)
      process.exitCode = 2
      return
    }
    // a failure the user can act on is a message, not a stack trace
    const known =
      error instanceof ConfigError ||
      error instanceof CliError ||
      error instanceof ApiError ||
      error instanceof PortError ||
      error instanceof BackupError ||
      error instanceof WorkerStartError
    const text = known ? (error as Error).message : ((error as Error).stack ?? String(error))
    process.stderr.write(`plinth: ${text}\n`)
    process.exitCode = 1
    // a worker of `plinth serve --workers N` that could not start: its IPC channel would keep it
    if (cluster.isWorker) process.exit()
  }
}

/** A command that was understood but failed (a bad value, nothing found, a download failed). */
class CliError extends Error {}

async function run(argv: string[]) {
  const invocation = parseCommandLine(argv)
  if ('help' in invocation) {
    process.stdout.write(invocation.help)
    return
  }
  const { command, positionals } = invocation
  const values = invocation.values as OrgValues & PullValues & { port?: string; host?: string; workers?: string }
  const overrides = {
    port: values.port !== undefined ? parsePort(values.port) : undefined,
    workers: values.workers !== undefined ? parseWorkers(values.workers) : undefined,
    host: values.host,
    dataDir: values['data-dir'],
    configFile: values.config,
  }
  switch (command) {
    case 'serve':
      await serve(overrides, { handleSignals: true })
      return
    case 'pull':
      return pullModel(positionals[0], overrides, values)
    case 'doctor':
      return doctor(overrides)
    case 'backup':
      await backup(loadConfig(process.env, overrides), positionals[0], process.stderr)
      return
    case 'restore':
      restore(loadConfig(process.env, overrides), positionals[0], process.stderr, { force: values.force })
      return
    case 'keys create':
    case 'keys list':
    case 'keys permissions':
      return keys(command, positionals, overrides, values)
    case 'invites accept':
      return acceptInvite(positionals[0], overrides, values)
  }
}

type PullValues = {
  sha256?: string
  name?: string
  force?: boolean
  'data-dir'?: string
  config?: string
}

async function pullModel(source: string, overrides: Parameters<typeof loadConfig>[1], values: PullValues) {
  const config = loadConfig(process.env, overrides)
  const modelsDir = config.llama.modelsDir ?? `${config.dataDir}/models`
  try {
    await pull(source, { modelsDir, sha256: values.sha256, name: values.name, force: values.force, env: process.env, out: process.stderr })
  } catch (error) {
    const resumable = !(error instanceof DownloadError)
    throw new CliError(`pull failed: ${(error as Error).message}${resumable ? ' (run the same command again to resume)' : ''}`)
  }
}

async function doctor(overrides: Parameters<typeof loadConfig>[1]) {
  const config = loadConfig(process.env, overrides)
  const { text, ok } = formatDoctor(await runDoctor(config, process.env))
  process.stdout.write(text)
  if (!ok) process.exitCode = 1
}

function parsePort(value: string): number {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port must be 0-65535, got '${value}'`)
  return port
}

function parseWorkers(value: string): number | 'auto' {
  if (value === 'auto') return 'auto'
  const workers = Number(value)
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw new CliError(`--workers must be 1-256 or auto, got '${value}'`)
  return workers
}

type OrgValues = {
  project?: string
  name?: string
  admin?: boolean
  user?: string
  permissions?: string
  'data-dir'?: string
  config?: string
}

/** Opens storage and the organization (bootstrapping it if needed) for an organization command. */
async function withOrganization(overrides: Parameters<typeof loadConfig>[1], fn: (storage: Storage, organization: OrganizationRow) => Promise<void>) {
  const config = loadConfig(process.env, overrides)
  setLogLevel('warn')
  const storage = await openStorage(storageConfigFor(config.databaseUrl, config.dataDir))
  try {
    const { organization } = await bootstrapOrganization(storage, config)
    await fn(storage, organization)
  } finally {
    await storage.close()
  }
}

async function keys(command: string, positionals: string[], overrides: Parameters<typeof loadConfig>[1], values: OrgValues) {
  // checked before the database is opened: a wrong command line changes nothing
  if (command === 'keys create' && !values.admin && !values.project) {
    throw new UsageError('keys create needs --project ID|default (or --admin)', commandUsage(command))
  }
  if (command === 'keys permissions' && values.permissions === undefined) {
    throw new UsageError('keys permissions needs --permissions SPEC', commandUsage(command))
  }
  await withOrganization(overrides, async (storage, organization) => {
    const service = new KeysService(storage)
    const admin = createAdminServices(storage, service)
    const repos = createRepos(storage.db)
    const projects = await repos.projects.list(organization.id)
    const projectId = (name?: string) => {
      if (!name || name === 'default') return projects[0].id
      const found = projects.find((p) => p.id === name || p.name === name)
      if (!found) throw new CliError(`no project '${name}' (projects: ${projects.map((p) => p.id).join(', ')})`)
      return found.id
    }
    const userId = async (email?: string) => {
      if (!email) return undefined
      const user = await repos.users.byEmail(organization.id, email.trim().toLowerCase())
      if (!user) throw new CliError(`no user with email '${email}'`)
      return user.id
    }
    const permissions = () => {
      if (values.permissions === undefined) return undefined
      try {
        return parseKeyPermissions(values.permissions)
      } catch (error) {
        throw new CliError(`--permissions: ${(error as Error).message}`)
      }
    }
    const actor = await cliActor(storage, organization.id)
    if (command === 'keys create') {
      const name = values.name ?? (values.admin ? 'CLI admin key' : 'CLI key')
      const ownerUserId = await userId(values.user)
      if (values.admin) {
        const created = await admin.adminKeys.createFor(actor, organization.id, { name, ownerUserId })
        process.stdout.write(`${created.value}\n`)
        process.stderr.write(`created admin key ${created.id} (shown once; stored hashed)\n`)
      } else {
        const created = await admin.projectKeys.create(actor, organization.id, projectId(values.project), { name, ownerUserId, permissions: permissions() })
        process.stdout.write(`${created.secret}\n`)
        process.stderr.write(`created project key ${created.row.id} (shown once; stored hashed)\n`)
      }
    } else if (command === 'keys list') {
      const rows = await service.list(values.project ? { projectId: projectId(values.project) } : {})
      for (const r of rows) {
        process.stdout.write(`${r.id}\t${r.kind}\t${r.project_id ?? '-'}\t${r.redacted_value}\t${r.name}\t${r.permissions}\n`)
      }
    } else {
      const keyId = positionals[0]
      await admin.projectKeys.setPermissions(actor, organization.id, keyId, permissions()!)
      process.stderr.write(`updated key ${keyId}\n`)
    }
  })
}

async function acceptInvite(token: string, overrides: Parameters<typeof loadConfig>[1], values: OrgValues) {
  await withOrganization(overrides, async (storage) => {
    const accepted = await createAdminServices(storage, new KeysService(storage)).invites.accept(
      { token, name: values.name },
      { ip: '127.0.0.1' },
    )
    process.stdout.write(`${accepted.admin_api_key.value}\n`)
    process.stderr.write(
      `${accepted.user.email} joined as ${accepted.user.role} (user ${accepted.user.id}); the admin key above is shown once\n`,
    )
  })
}
