import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { main } from '../../src/cli.js'

// `--help`, `-h` and `help` on every command print its usage and exit 0; a command line that
// cannot be understood prints the usage and exits 2; neither ever prints a stack trace, nor
// opens (or creates) the database.

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-cli-help-'))
const savedDataDir = process.env.PLINTH_DATA_DIR
process.env.PLINTH_DATA_DIR = dataDir
afterAll(() => {
  if (savedDataDir === undefined) delete process.env.PLINTH_DATA_DIR
  else process.env.PLINTH_DATA_DIR = savedDataDir
  fs.rmSync(dataDir, { recursive: true, force: true })
})
afterEach(() => {
  process.exitCode = undefined
  vi.restoreAllMocks()
  // nothing was opened: no database, no bootstrap
  expect(fs.readdirSync(dataDir)).toEqual([])
})

/** Runs the CLI in this process, as `plinth <args>`. */
async function plinth(...args: string[]) {
  let stdout = ''
  let stderr = ''
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true))
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true))
  process.exitCode = undefined
  await main(args)
  vi.restoreAllMocks()
  return { status: process.exitCode ?? 0, stdout, stderr }
}

const COMMANDS = [
  ['serve'],
  ['keys', 'create'],
  ['keys', 'list'],
  ['keys', 'permissions'],
  ['invites', 'accept'],
  ['pull'],
]

describe('help', () => {
  it('the overall usage: no command, help, --help, -h', async () => {
    for (const args of [[], ['help'], ['--help'], ['-h']]) {
      const answer = await plinth(...args)
      expect(answer, args.join(' ')).toMatchObject({ status: 0, stderr: '' })
      expect(answer.stdout).toMatch(/^Usage: plinth <command> \[options\]/)
      for (const command of COMMANDS) expect(answer.stdout).toContain(command.join(' '))
    }
  })

  it("every command's own usage, asked for in every way", async () => {
    for (const command of COMMANDS) {
      const forms = [
        [...command, '--help'],
        [...command, '-h'],
        [...command, 'help'],
        ['help', ...command],
        // with other options around it, valid or not
        [...command, '--name', 'x', '--help'],
        [...command, '--help', '--no-such-flag'],
      ]
      for (const args of forms) {
        const answer = await plinth(...args)
        expect(answer.status, args.join(' ')).toBe(0)
        expect(answer.stderr).toBe('')
        expect(answer.stdout).toMatch(new RegExp(`^Usage: plinth ${command.join(' ')}\\b`))
        expect(answer.stdout).toContain('--data-dir')
      }
    }
  })

  it('a command group lists its commands', async () => {
    for (const args of [['keys', '--help'], ['keys', '-h'], ['keys', 'help'], ['help', 'keys']]) {
      const answer = await plinth(...args)
      expect(answer.status).toBe(0)
      expect(answer.stdout).toMatch(/^Usage: plinth keys <create \| list \| permissions>/)
    }
    expect((await plinth('invites', '--help')).stdout).toMatch(/^Usage: plinth invites accept/)
  })
})

describe('a command line that cannot be understood: the usage, exit 2', () => {
  const cases: [string[], string, RegExp][] = [
    [['bogus'], "unknown command 'bogus'", /^Usage: plinth <command>/],
    [['--port', '3000'], "unknown command '--port'", /^Usage: plinth <command>/],
    [['help', 'bogus'], "no help for 'bogus': unknown command", /^Usage: plinth <command>/],
    [['keys'], "'keys' needs a command", /^Usage: plinth keys </],
    [['keys', 'delete'], "unknown keys command 'delete'", /^Usage: plinth keys </],
    [['invites', 'decline', 't'], "unknown invites command 'decline'", /^Usage: plinth invites/],
    [['serve', '--bogus'], "unknown option '--bogus'", /^Usage: plinth serve/],
    [['serve', '--port'], "option '--port <value>' argument missing", /^Usage: plinth serve/],
    [['serve', 'now'], "unexpected argument 'now'", /^Usage: plinth serve/],
    [['keys', 'list', '--admin'], "unknown option '--admin'", /^Usage: plinth keys list/],
    [['keys', 'create'], 'keys create needs --project ID|default (or --admin)', /^Usage: plinth keys create/],
    [['keys', 'permissions', 'key_1'], 'keys permissions needs --permissions SPEC', /^Usage: plinth keys permissions/],
    [['keys', 'permissions'], "'keys permissions' needs the key id (KEY_ID)", /^Usage: plinth keys permissions/],
    [['invites', 'accept'], "'invites accept' needs the invite's token (TOKEN)", /^Usage: plinth invites accept/],
    [['pull'], "'pull' needs the model to download", /^Usage: plinth pull/],
    [['pull', 'a', 'b'], "unexpected argument 'b'", /^Usage: plinth pull/],
    [['pull', 'x', '-f'], "unknown option '-f'", /^Usage: plinth pull/],
  ]
  for (const [args, message, usage] of cases) {
    it(`plinth ${args.join(' ')}`, async () => {
      const answer = await plinth(...args)
      expect(answer.status).toBe(2)
      expect(answer.stdout).toBe('')
      const [first, ...rest] = answer.stderr.split('\n\n')
      expect(first).toContain(`plinth: ${message}`)
      expect(rest.join('\n\n')).toMatch(usage)
      expect(answer.stderr).not.toMatch(/\n\s+at /)
    })
  }
})

describe('as a real process', () => {
  const root = path.resolve(import.meta.dirname, '../..')
  const run = (...args: string[]) =>
    spawnSync(
      process.execPath,
      [path.join(root, 'node_modules/tsx/dist/cli.mjs'), path.join(root, 'test/cli/run-cli.ts'), ...args],
      { encoding: 'utf8', env: { ...process.env, PLINTH_DATA_DIR: dataDir } },
    )

  it('plinth keys --help (it printed a stack trace): the usage, exit 0', () => {
    const answer = run('keys', '--help')
    expect(answer.status, answer.stderr).toBe(0)
    expect(answer.stdout).toMatch(/^Usage: plinth keys/)
    expect(answer.stderr).toBe('')
  })

  it('an unknown flag: exit 2, no stack trace', () => {
    const answer = run('keys', 'create', '--projekt', 'default')
    expect(answer.status).toBe(2)
    expect(answer.stderr).toMatch(/^plinth: unknown option '--projekt'\n\nUsage: plinth keys create/)
    expect(answer.stderr).not.toMatch(/\n\s+at /)
  })
})
