import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { toFile } from 'openai'
import { afterAll, expect, it } from 'vitest'
import { backup } from '../../src/backup.js'
import { loadConfig } from '../../src/config/load.js'
import { createTestApp } from '../helpers/test-context.js'

// blobs.dir (issue 20): nodes share one volume for file bytes and keep their own data directory.

const dirs: string[] = []
const tempDir = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  dirs.push(dir)
  return dir
}
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })))

it('PLINTH_BLOBS_DIR sets blobs.dir; unset, it stays <dataDir>/blobs', () => {
  expect(loadConfig({ PLINTH_BLOBS_DIR: '/srv/shared/blobs' }).blobs.dir).toBe('/srv/shared/blobs')
  expect(loadConfig({}).blobs.dir).toBeUndefined()
  expect(loadConfig({ PLINTH_RATE_LIMITS_ON_REDIS_DOWN: 'refuse' }).rateLimits.onRedisDown).toBe('refuse')
  expect(loadConfig({}).rateLimits.onRedisDown).toBe('local')
  expect(() => loadConfig({ PLINTH_RATE_LIMITS_ON_REDIS_DOWN: 'open' })).toThrow(/onRedisDown/)
})

it('file bytes go to blobs.dir, not the data directory; backups read them there', async () => {
  const shared = tempDir('plinth-shared-blobs-')
  const a = await createTestApp({ blobs: { dir: shared } })
  try {
    const file = await a.client().files.create({ file: await toFile(Buffer.from('shared bytes'), 'a.txt'), purpose: 'assistants' })
    expect(fs.readFileSync(path.join(shared, 'files', file.id), 'utf8')).toBe('shared bytes')
    expect(fs.existsSync(path.join(a.ctx.config.dataDir, 'blobs', 'files', file.id))).toBe(false)
    const dest = path.join(tempDir('plinth-backup-blobs-'), 'b')
    const manifest = await backup(a.ctx.config, dest, { write: () => true } as any)
    expect(manifest.blobs.files).toBeGreaterThanOrEqual(1)
    expect(fs.readFileSync(path.join(dest, 'blobs', 'files', file.id), 'utf8')).toBe('shared bytes')
  } finally {
    await a.close()
  }
})
