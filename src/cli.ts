import { parseArgs } from 'node:util'
import { loadConfig, ConfigError } from './config/load.js'
import { KeysService } from './domain/organization/keys.js'
import { bootstrapOrganization } from './domain/organization/bootstrap.js'
import { createRepos } from './storage/repositories/index.js'
import { storageConfigFor } from './storage/dialect.js'
import { openStorage } from './storage/storage.js'
import { serve } from './main.js'
import { setLogLevel } from './logger.js'
import { DownloadError, pull } from './providers/llama-cpp/pull/pull.js'

const USAGE = `Usage: plinth <command> [options]

Commands:
  serve [--port N] [--host H] [--data-dir DIR] [--config FILE]
                               start the API server (env: PLINTH_PORT, PLINTH_HOST, PLINTH_DATA_DIR, PLINTH_CONFIG)
  keys create --project ID|default [--name NAME] [--admin]
                               create a project key (or an admin key with --admin); prints the secret once
  keys list [--project ID]     list keys (redacted)
  pull <url | hf:owner/repo/file.gguf> [--sha256 HEX] [--name NAME] [--force]
                               download a GGUF model into <data-dir>/models (resumes if interrupted)
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
      return keys(positionals[0], overrides, values)
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

function parsePort(value: string): number {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got '${value}'`)
  return port
}

async function keys(sub: string | undefined, overrides: Parameters<typeof loadConfig>[1], values: { project?: string; name?: string; admin?: boolean }) {
  const config = loadConfig(process.env, overrides)
  setLogLevel('warn')
  const storage = await openStorage(storageConfigFor(config.databaseUrl, config.dataDir))
  try {
    const { organization } = await bootstrapOrganization(storage, config)
    const service = new KeysService(storage)
    const projects = await createRepos(storage.db).projects.list(organization.id)
    const projectId = (name?: string) => {
      if (!name || name === 'default') return projects[0].id
      const found = projects.find((p) => p.id === name || p.name === name)
      if (!found) throw new UsageError(`no project '${name}' (projects: ${projects.map((p) => p.id).join(', ')})`)
      return found.id
    }
    if (sub === 'create') {
      if (!values.admin && !values.project) throw new UsageError('keys create needs --project ID|default (or --admin)')
      const created = await service.create({
        orgId: organization.id,
        projectId: values.admin ? null : projectId(values.project),
        name: values.name ?? (values.admin ? 'CLI admin key' : 'CLI key'),
        ownerType: 'system',
      })
      process.stdout.write(`${created.secret}\n`)
      process.stderr.write(`created ${created.row.kind} key ${created.row.id} (shown once; stored hashed)\n`)
    } else if (sub === 'list') {
      const rows = await service.list(values.project ? { projectId: projectId(values.project) } : {})
      for (const r of rows) {
        process.stdout.write(`${r.id}\t${r.kind}\t${r.project_id ?? '-'}\t${r.redacted_value}\t${r.name}\n`)
      }
    } else {
      throw new UsageError(`unknown keys command '${sub ?? ''}'\n\n${USAGE}`)
    }
  } finally {
    await storage.close()
  }
}
