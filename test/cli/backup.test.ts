import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { toFile } from 'openai'
import { afterAll, describe, expect, it } from 'vitest'
import { adminClient } from '../helpers/admin.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

const root = path.resolve(import.meta.dirname, '../..')
const tsx = path.join(root, 'node_modules/tsx/dist/cli.mjs')
const entry = path.join(root, 'test/cli/run-cli.ts')
const dirs: string[] = []
const temp = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
})

const cli = (args: string[]) => spawnSync(process.execPath, [tsx, entry, ...args], { encoding: 'utf8', env: { ...process.env, PLINTH_LOG_LEVEL: 'warn' } })

describe('plinth backup and restore', () => {
  it('backs up a running server and restores every object into a fresh data directory', async () => {
    const source = temp('plinth-backup-src-')
    const original: TestApp = await createTestApp({ dataDir: source })
    const client = original.client()
    const content = 'line one\nline two: the bytes must come back exactly\n'
    const file = await client.files.create({ file: await toFile(Buffer.from(content), 'notes.txt'), purpose: 'assistants' })
    const assistant = await client.beta.assistants.create({ model: 'test-echo', name: 'keeper', metadata: { k: 'v' } })
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'remember me' }] })
    const completion = await client.chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: 'stored' }], store: true })
    const response = await client.responses.create({ model: 'test-echo', input: 'kept response' })
    const store = await client.vectorStores.create({ name: 'docs', file_ids: [file.id] })
    const project = await adminClient(original).admin.organization.projects.create({ name: 'second' })
    await original.ctx.services.usage.flush()

    // the server is still running (and writing) while the backup is taken
    const backupDir = path.join(temp('plinth-backup-'), 'b1')
    const made = cli(['backup', backupDir, '--data-dir', source])
    expect(made.status, made.stderr).toBe(0)
    expect(made.stderr).toContain(`backup written to ${backupDir}`)
    const manifest = JSON.parse(fs.readFileSync(path.join(backupDir, 'manifest.json'), 'utf8'))
    expect(manifest).toMatchObject({ format: 1, database: 'sqlite', database_file: 'plinth.db', missing_blobs: [] })
    expect(manifest.blobs.files).toBeGreaterThanOrEqual(1)
    await original.close()

    const target = temp('plinth-backup-dst-')
    const restored = cli(['restore', backupDir, '--data-dir', target])
    expect(restored.status, restored.stderr).toBe(0)
    // a second restore over it is refused, unless forced
    const again = cli(['restore', backupDir, '--data-dir', target])
    expect(again.status).toBe(1)
    expect(again.stderr).toContain('already exists')
    expect(again.stderr).not.toContain('    at ')

    const copy = await createTestApp({ dataDir: target })
    try {
      const c = copy.client()
      expect(await (await c.files.content(file.id)).text()).toBe(content)
      expect(await c.files.retrieve(file.id)).toEqual(file)
      expect(await c.beta.assistants.retrieve(assistant.id)).toEqual(assistant)
      const messages = await c.beta.threads.messages.list(thread.id)
      expect(messages.data.map((m) => (m.content[0] as { text: { value: string } }).text.value)).toEqual(['remember me'])
      expect((await c.chat.completions.retrieve(completion.id)).choices[0].message.content).toBe(completion.choices[0].message.content)
      expect((await c.responses.retrieve(response.id)).output_text).toBe(response.output_text)
      expect((await c.vectorStores.retrieve(store.id)).name).toBe('docs')
      expect((await adminClient(copy).admin.organization.projects.retrieve(project.id)).name).toBe('second')
    } finally {
      await copy.close()
    }
  }, 60_000)

  it('refuses a directory that is no backup, and a non-empty destination, in one line', () => {
    const empty = temp('plinth-backup-none-')
    const refused = cli(['restore', empty, '--data-dir', temp('plinth-backup-x-')])
    expect(refused.status).toBe(1)
    expect(refused.stderr.trim()).toBe(`plinth: ${empty} is not a Plinth backup (no manifest.json)`)
    fs.writeFileSync(path.join(empty, 'something'), 'x')
    const busy = cli(['backup', empty, '--data-dir', temp('plinth-backup-y-')])
    expect(busy.status).toBe(1)
    expect(busy.stderr.trim()).toBe(`plinth: ${empty} exists and is not empty: back up into a new directory`)
  })
})
