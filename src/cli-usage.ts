import { parseArgs, type ParseArgsConfig } from 'node:util'

// The CLI's command line: each command's options and usage text, and the parse that turns argv
// into a command or a help request. Nothing here touches storage, so a wrong command line is
// answered before a database is opened (or an organization bootstrapped).

type Options = NonNullable<ParseArgsConfig['options']>

type Command = {
  usage: string
  options: Options
  /** How many positionals the command takes (help aside), and what they are. */
  positionals: [min: number, max: number]
  arguments?: string
}

const STORE_OPTIONS: Options = { 'data-dir': { type: 'string' }, config: { type: 'string' } }
const STORE_HELP = `  --data-dir DIR     where the data lives (env PLINTH_DATA_DIR; default ./data)
  --config FILE      a JSON config file (env PLINTH_CONFIG)`

const COMMANDS: Record<string, Command> = {
  serve: {
    usage: `Usage: plinth serve [--port N] [--host H] [--workers N|auto] [--data-dir DIR] [--config FILE]

Starts the API server.

  --port N           the port to listen on, 0-65535 (env PLINTH_PORT; default 8080)
  --host H           the address to listen on (env PLINTH_HOST; default 127.0.0.1)
  --workers N|auto   server processes sharing the port; auto = one per core (env PLINTH_WORKERS;
                     default 1)
${STORE_HELP}
`,
    options: { port: { type: 'string' }, host: { type: 'string' }, workers: { type: 'string' }, ...STORE_OPTIONS },
    positionals: [0, 0],
  },
  'keys create': {
    usage: `Usage: plinth keys create --project ID|default [--name NAME] [--user EMAIL] [--permissions SPEC]
       plinth keys create --admin [--name NAME] [--user EMAIL]

Creates a project key (or an admin key with --admin) owned by a user, and prints its secret
once.

  --project ID       the project, by id or name; 'default' is the first project
  --admin            an admin key instead of a project key
  --name NAME        the key's name
  --user EMAIL       the owner (default: the organization's owner)
  --permissions SPEC all | read_only | resource=none|read|write,... (restricted)
${STORE_HELP}
`,
    options: {
      project: { type: 'string' },
      admin: { type: 'boolean' },
      name: { type: 'string' },
      user: { type: 'string' },
      permissions: { type: 'string' },
      ...STORE_OPTIONS,
    },
    positionals: [0, 0],
  },
  'keys list': {
    usage: `Usage: plinth keys list [--project ID]

Lists the keys, redacted: id, kind, project, value, name, permissions.

  --project ID       only this project's keys
${STORE_HELP}
`,
    options: { project: { type: 'string' }, ...STORE_OPTIONS },
    positionals: [0, 0],
  },
  'keys permissions': {
    usage: `Usage: plinth keys permissions KEY_ID --permissions SPEC

Changes what a project key may do.

  --permissions SPEC all | read_only | resource=none|read|write,... (restricted)
${STORE_HELP}
`,
    options: { permissions: { type: 'string' }, ...STORE_OPTIONS },
    positionals: [1, 1],
    arguments: 'the key id (KEY_ID)',
  },
  'invites accept': {
    usage: `Usage: plinth invites accept TOKEN [--name NAME]

Accepts an invite (its token came with it), and prints the new user's admin key once.

  --name NAME        the new user's name
${STORE_HELP}
`,
    options: { name: { type: 'string' }, ...STORE_OPTIONS },
    positionals: [1, 1],
    arguments: "the invite's token (TOKEN)",
  },
  pull: {
    usage: `Usage: plinth pull <url | hf:owner/repo/file.gguf> [--sha256 HEX] [--name NAME] [--force]

Downloads a GGUF model into <data-dir>/models (resumes if interrupted).

  --sha256 HEX       the file's expected sha256
  --name NAME        the model id it is served as
  --force            download again even if the file is there
${STORE_HELP}
`,
    options: {
      sha256: { type: 'string' },
      name: { type: 'string' },
      force: { type: 'boolean' },
      ...STORE_OPTIONS,
    },
    positionals: [1, 1],
    arguments: 'the model to download (a URL or hf:owner/repo/file.gguf)',
  },
  backup: {
    usage: `Usage: plinth backup DIR [--data-dir DIR] [--config FILE]

Writes a backup of the database and the stored files into DIR (a new or empty directory), while
the server runs. SQLite is copied with its online backup; PostgreSQL with pg_dump.

${STORE_HELP}
`,
    options: { ...STORE_OPTIONS },
    positionals: [1, 1],
    arguments: 'the directory to write the backup into (DIR)',
  },
  restore: {
    usage: `Usage: plinth restore BACKUP [--force] [--data-dir DIR] [--config FILE]

Restores a backup made by 'plinth backup' into the data directory (stop the server first).

  --force            replace a database that is already there
${STORE_HELP}
`,
    options: { force: { type: 'boolean' }, ...STORE_OPTIONS },
    positionals: [1, 1],
    arguments: 'the backup directory (BACKUP)',
  },
  doctor: {
    usage: `Usage: plinth doctor [--data-dir DIR] [--config FILE]

Checks what this host offers: the database, Redis, models, the code interpreter's sandbox.
Prints what is missing and the command that installs it (exit 1 when a part the config
requires is missing).

${STORE_HELP}
`,
    options: { ...STORE_OPTIONS },
    positionals: [0, 0],
  },
}

const GROUPS: Record<string, { usage: string; subcommands: string[] }> = {
  keys: {
    usage: `Usage: plinth keys <create | list | permissions> [options]

  keys create        create a project key (or an admin key); prints the secret once
  keys list          list keys (redacted)
  keys permissions   change what a project key may do

Run 'plinth keys <command> --help' for a command's options.
`,
    subcommands: ['create', 'list', 'permissions'],
  },
  invites: {
    usage: `Usage: plinth invites accept TOKEN [--name NAME]

  invites accept     accept an invite; prints the new user's admin key once

Run 'plinth invites accept --help' for its options.
`,
    subcommands: ['accept'],
  },
}

export const USAGE = `Usage: plinth <command> [options]

Commands:
  serve              start the API server
  keys create        create a project key (or an admin key with --admin); prints it once
  keys list          list keys (redacted)
  keys permissions   change what a project key may do
  invites accept     accept an invite; prints the new user's admin key once
  pull               download a GGUF model into <data-dir>/models
  backup DIR         back up the database and the stored files, while the server runs
  restore BACKUP     restore a backup into the data directory
  doctor             check the optional parts (sandbox, PostgreSQL, Redis, models) and say
                     what is missing and how to install it
  help [command]     this text, or a command's

Run 'plinth <command> --help' for a command's options. Exit status: 0 on success, 1 when the
command failed, 2 when the command line is wrong.
`

/** A command line that cannot be understood: exit 2, with the usage that applies. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string = USAGE,
  ) {
    super(message)
  }
}

export type Invocation =
  | { help: string }
  | {
      command: string
      values: Record<string, unknown>
      positionals: string[]
    }

const HELP = new Set(['help', '--help', '-h'])

/** argv (without node and the script) → the command to run, or the help text asked for. */
export function parseCommandLine(argv: string[]): Invocation {
  const [first, ...rest] = argv
  if (first === undefined || HELP.has(first)) {
    return { help: first === 'help' && rest.length ? helpFor(rest) : USAGE }
  }
  const group = GROUPS[first]
  if (group) {
    const [sub, ...args] = rest
    if (sub !== undefined && HELP.has(sub)) return { help: group.usage }
    if (sub === undefined) throw new UsageError(`'${first}' needs a command`, group.usage)
    if (!group.subcommands.includes(sub)) {
      throw new UsageError(`unknown ${first} command '${sub}'`, group.usage)
    }
    return parseCommand(`${first} ${sub}`, args)
  }
  if (COMMANDS[first]) return parseCommand(first, rest)
  throw new UsageError(`unknown command '${first}'`)
}

/** The usage text of one command (`keys create`...). */
export function commandUsage(name: string): string {
  return COMMANDS[name]?.usage ?? USAGE
}

function helpFor(topic: string[]): string {
  const [name, sub] = topic
  if (sub !== undefined && COMMANDS[`${name} ${sub}`]) return COMMANDS[`${name} ${sub}`].usage
  const known = GROUPS[name]?.usage ?? COMMANDS[name]?.usage
  if (!known) throw new UsageError(`no help for '${topic.join(' ')}': unknown command`)
  return known
}

function parseCommand(name: string, args: string[]): Invocation {
  const command = COMMANDS[name]
  // asked for help: the usage, whatever else is on the line (a typo next to --help included)
  const end = args.indexOf('--')
  const options = end < 0 ? args : args.slice(0, end)
  if (options.includes('--help') || options.includes('-h')) return { help: command.usage }
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
    })
  } catch (error) {
    // node:util's parse errors (an unknown option, a missing value) carry ERR_PARSE_ARGS_* codes
    const code = (error as { code?: string }).code ?? ''
    if (!code.startsWith('ERR_PARSE_ARGS')) throw error
    throw new UsageError(parseArgsMessage((error as Error).message), command.usage)
  }
  const { values, positionals } = parsed
  if (values.help || positionals[0] === 'help') return { help: command.usage }
  const [min, max] = command.positionals
  if (positionals.length > max) {
    throw new UsageError(`unexpected argument '${positionals[max]}'`, command.usage)
  }
  if (positionals.length < min) {
    throw new UsageError(`'${name}' needs ${command.arguments ?? 'an argument'}`, command.usage)
  }
  return { command: name, values, positionals }
}

/** node's message minus its advice for scripts (`To specify a positional argument...`). */
function parseArgsMessage(message: string): string {
  const first = message.split('. ')[0].replace(/\.$/, '')
  return first.charAt(0).toLowerCase() + first.slice(1)
}
