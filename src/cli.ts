import { parseArgs } from 'node:util'
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
import { serve } from './main.js'
import { setLogLevel } from './logger.js'
import { DownloadError, pull } from './providers/llama-cpp/pull/pull.js'
import { formatDoctor, runDoctor } from './doctor.js'

const USAGE = `Usage: plinth <command> [options]

Commands:
  serve [--port N] [--host H] [--data-dir DIR] [--config FILE]
                               start the API server (env: PLINTH_PORT, PLINTH_HOST, PLINTH_DATA_DIR, PLINTH_CONFIG)
  keys create --project ID|default [--name NAME] [--admin] [--user EMAIL] [--permissions SPEC]
                               create a project key (or an admin key with --admin) owned by a user
                               (default: the organization's owner); prints the secret once.
                               SPEC: all | read_only | resource=none|read|write,... (restricted)
  keys list [--project ID]     list keys (redacted)
  keys permissions KEY_ID --permissions SPEC
                               change what a project key may do
  invites accept TOKEN [--name NAME]
                               accept an invite (its token came with it); prints the new user's admin key once
  pull <url | hf:owner/repo/file.gguf> [--sha256 HEX] [--name NAME] [--force]
                               download a GGUF model into <data-dir>/models (resumes if interrupted)
  doctor [--config FILE]       check what this host offers: database, Redis, models, the code
                               interpreter's sandbox; prints what is missing and the command that
                               installs it (exit 1 when a required part is missing)
  help                         this text
`

export async function main(argv: string[]): Promise<void> {
  try {
    await run(argv)
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) {
      process.stderr.write(`plinth: ${error.message}\n`)
    } else {
      process.stderr.write(`plinth: ${(error as Error).stack ?? error}\n`)
    }
    process.exitCode = 1
  }
}

class UsageError extends Error {}

async function run(argv: string[]) {
  const [command, ...rest] = argv
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      config: { type: 'string' },
      project: { type: 'string' },
      name: { type: 'string' },
      admin: { type: 'boolean' },
      user: { type: 'string' },
      permissions: { type: 'string' },
      sha256: { type: 'string' },
      force: { type: 'boolean' },
    },
  })
  const overrides = {
    port: values.port !== undefined ? parsePort(values.port) : undefined,
    host: values.host,
    dataDir: values['data-dir'],
    configFile: values.config,
  }
  switch (command) {
    case 'serve':
      await serve(overrides, { handleSignals: true })
      return
    case 'pull':
      return pullModel(positionals, overrides, values)
    case 'keys':
      return keys(positionals[0], positionals, overrides, values)
    case 'invites':
      return invites(positionals[0], positionals, overrides, values)
    case 'doctor':
      return doctor(overrides)
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE)
      return
    default:
      throw new UsageError(`unknown command '${command}'\n\n${USAGE}`)
  }
}

async function pullModel(positionals: string[], overrides: Parameters<typeof loadConfig>[1], values: { sha256?: string; name?: string; force?: boolean }) {
  if (positionals.length !== 1) throw new UsageError(`pull takes one source\n\n${USAGE}`)
  const config = loadConfig(process.env, overrides)
  const modelsDir = config.llama.modelsDir ?? `${config.dataDir}/models`
  try {
    await pull(positionals[0], { modelsDir, sha256: values.sha256, name: values.name, force: values.force, env: process.env, out: process.stderr })
  } catch (error) {
    const resumable = !(error instanceof DownloadError)
    throw new UsageError(`pull failed: ${(error as Error).message}${resumable ? ' (run the same command again to resume)' : ''}`)
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
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got '${value}'`)
  return port
}

type OrgValues = { project?: string; name?: string; admin?: boolean; user?: string; permissions?: string }

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

async function keys(sub: string | undefined, positionals: string[], overrides: Parameters<typeof loadConfig>[1], values: OrgValues) {
  await withOrganization(overrides, async (storage, organization) => {
    const service = new KeysService(storage)
    const admin = createAdminServices(storage, service)
    const repos = createRepos(storage.db)
    const projects = await repos.projects.list(organization.id)
    const projectId = (name?: string) => {
      if (!name || name === 'default') return projects[0].id
      const found = projects.find((p) => p.id === name || p.name === name)
      if (!found) throw new UsageError(`no project '${name}' (projects: ${projects.map((p) => p.id).join(', ')})`)
      return found.id
    }
    const userId = async (email?: string) => {
      if (!email) return undefined
      const user = await repos.users.byEmail(organization.id, email.trim().toLowerCase())
      if (!user) throw new UsageError(`no user with email '${email}'`)
      return user.id
    }
    const permissions = () => {
      if (values.permissions === undefined) return undefined
      try {
        return parseKeyPermissions(values.permissions)
      } catch (error) {
        throw new UsageError(`--permissions: ${(error as Error).message}`)
      }
    }
    const actor = await cliActor(storage, organization.id)
    if (sub === 'create') {
      if (!values.admin && !values.project) throw new UsageError('keys create needs --project ID|default (or --admin)')
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
    } else if (sub === 'list') {
      const rows = await service.list(values.project ? { projectId: projectId(values.project) } : {})
      for (const r of rows) {
        process.stdout.write(`${r.id}\t${r.kind}\t${r.project_id ?? '-'}\t${r.redacted_value}\t${r.name}\t${r.permissions}\n`)
      }
    } else if (sub === 'permissions') {
      const keyId = positionals[1]
      if (!keyId || values.permissions === undefined) throw new UsageError('keys permissions needs KEY_ID and --permissions SPEC')
      await admin.projectKeys.setPermissions(actor, organization.id, keyId, permissions()!)
      process.stderr.write(`updated key ${keyId}\n`)
    } else {
      throw new UsageError(`unknown keys command '${sub ?? ''}'\n\n${USAGE}`)
    }
  })
}

async function invites(sub: string | undefined, positionals: string[], overrides: Parameters<typeof loadConfig>[1], values: OrgValues) {
  if (sub !== 'accept' || !positionals[1]) throw new UsageError(`invites accept needs the invite's token\n\n${USAGE}`)
  await withOrganization(overrides, async (storage) => {
    const accepted = await createAdminServices(storage, new KeysService(storage)).invites.accept(
      { token: positionals[1], name: values.name },
      { ip: '127.0.0.1' },
    )
    process.stdout.write(`${accepted.admin_api_key.value}\n`)
    process.stderr.write(
      `${accepted.user.email} joined as ${accepted.user.role} (user ${accepted.user.id}); the admin key above is shown once\n`,
    )
  })
}
