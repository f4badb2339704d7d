import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { StorageConfig } from '../../src/storage/dialect.js'
import type { FileRow } from '../../src/storage/repositories/files.js'
import { createRepos } from '../../src/storage/repositories/index.js'
import type { UploadRow } from '../../src/storage/repositories/uploads.js'
import { openStorage, type Storage } from '../../src/storage/storage.js'
import { skippedPgCase, storageCases } from '../helpers/pg.js'

// The Files and Uploads repository contract, on every dialect.

const T0 = 1_750_000_000
// Past 2^32: file sizes are bigint columns (uploads reach 8 GB)
const BIG = 2 ** 33 + 5

function file(projectId: string, id: string, over: Partial<FileRow> = {}): FileRow {
  return {
    id,
    project_id: projectId,
    bytes: 10,
    created_at: T0,
    expires_at: null,
    filename: `${id}.jsonl`,
    purpose: 'batch',
    status: 'processed',
    status_details: null,
    mime_type: null,
    state: 'ready',
    ...over,
  }
}

function upload(projectId: string, id: string, over: Partial<UploadRow> = {}): UploadRow {
  return {
    id,
    project_id: projectId,
    filename: 'big.jsonl',
    purpose: 'batch',
    bytes: BIG,
    mime_type: 'text/jsonl',
    status: 'pending',
    created_at: T0,
    expires_at: T0 + 3600,
    file_expires_after: null,
    file_id: null,
    ...over,
  }
}

describe.each(storageCases())('files and uploads repositories on $name', ({ create }) => {
  let config: StorageConfig
  let cleanup: () => Promise<void>
  let storage: Storage
  beforeAll(async () => {
    ;({ config, cleanup } = create('files'))
    storage = await openStorage(config)
  })
  afterAll(async () => {
    await storage?.close()
    await cleanup?.()
  })
  const repos = () => createRepos(storage.db)

  describe('files', () => {
    it('shows only ready, unexpired files of the project', async () => {
      const p = 'proj_visibility'
      await repos().files.insert(file(p, 'file-v1', { bytes: BIG }))
      await repos().files.insert(file(p, 'file-v2', { state: 'pending' }))
      await repos().files.insert(file(p, 'file-v3', { expires_at: T0 + 100 }))
      await repos().files.insert(file('proj_other', 'file-v4'))
      expect(await repos().files.get(p, 'file-v1', T0)).toEqual(file(p, 'file-v1', { bytes: BIG }))
      expect(await repos().files.get(p, 'file-v2', T0)).toBeUndefined()
      expect(await repos().files.get(p, 'file-v3', T0 + 99)).toBeDefined()
      expect(await repos().files.get(p, 'file-v3', T0 + 100)).toBeUndefined()
      expect(await repos().files.get(p, 'file-v4', T0)).toBeUndefined()
      const listed = await repos().files.list(p, { limit: 10, order: 'asc' }, T0)
      expect(listed.map((f) => f.id)).toEqual(['file-v1', 'file-v3'])
    })

    it('pending → ready → hidden, guarded by the state', async () => {
      const p = 'proj_states'
      await repos().files.insert(file(p, 'file-s1', { state: 'pending' }))
      expect(await repos().files.markReady(p, 'file-s1')).toBe(true)
      expect(await repos().files.markReady(p, 'file-s1')).toBe(false)
      expect(await repos().files.markReady('proj_other', 'file-s1')).toBe(false)
      expect(await repos().files.hide(p, 'file-s1')).toBe(true)
      expect(await repos().files.hide(p, 'file-s1')).toBe(false)
      expect(await repos().files.get(p, 'file-s1', T0)).toBeUndefined()
      expect(await repos().files.delete(p, 'file-s1')).toBe(true)
      expect(await repos().files.delete(p, 'file-s1')).toBe(false)
    })

    it('pages by id in byte order, both ways, with a purpose filter', async () => {
      const p = 'proj_pages'
      // mixed case: a linguistic collation would order these differently (a < B), bytes do not
      const ids = ['file-A1', 'file-B1', 'file-Z1', 'file-a1', 'file-b1']
      for (const id of [...ids].reverse())
        await repos().files.insert(
          file(p, id, { purpose: id.endsWith('B1') ? 'assistants' : 'batch' }),
        )
      const asc = await repos().files.list(p, { limit: 2, order: 'asc' }, T0)
      expect(asc.map((f) => f.id)).toEqual(ids.slice(0, 3))
      const next = await repos().files.list(p, { limit: 2, order: 'asc', after: 'file-B1' }, T0)
      expect(next.map((f) => f.id)).toEqual(['file-Z1', 'file-a1', 'file-b1'])
      const desc = await repos().files.list(p, { limit: 10, order: 'desc', after: 'file-a1' }, T0)
      expect(desc.map((f) => f.id)).toEqual(['file-Z1', 'file-B1', 'file-A1'])
      const batch = await repos().files.list(p, { limit: 10, order: 'asc', purpose: 'batch' }, T0)
      expect(batch.map((f) => f.id)).toEqual(['file-A1', 'file-Z1', 'file-a1', 'file-b1'])
    })

    it('finds expired files and pending rows left by dead writes, across projects', async () => {
      await repos().files.insert(file('proj_x1', 'file-e1', { expires_at: T0 + 10 }))
      await repos().files.insert(file('proj_x2', 'file-e2', { expires_at: T0 + 20 }))
      await repos().files.insert(
        file('proj_x1', 'file-e3', { state: 'pending', created_at: T0 - 1000 }),
      )
      await repos().files.insert(file('proj_x1', 'file-e4', { state: 'pending', created_at: T0 }))
      expect((await repos().files.expired(T0 + 15, 10)).map((f) => f.id)).toEqual(['file-e1'])
      expect((await repos().files.expired(T0 + 20, 10)).map((f) => f.id)).toEqual([
        'file-e1',
        'file-e2',
      ])
      expect((await repos().files.stalePending(T0 - 10, 10)).map((f) => f.id)).toEqual(['file-e3'])
    })
  })

  describe('uploads', () => {
    it('insert and get per project, with sizes past 2^32', async () => {
      const row = upload('proj_u', 'upload_u1')
      await repos().uploads.insert(row)
      expect(await repos().uploads.get('proj_u', 'upload_u1')).toEqual(row)
      expect(await repos().uploads.get('proj_other', 'upload_u1')).toBeUndefined()
    })

    it('adds up part sizes, lists parts in id order, removes them', async () => {
      await repos().uploads.insert(upload('proj_u', 'upload_u2'))
      expect(await repos().uploads.partBytes('upload_u2')).toBe(0)
      await repos().uploads.insertPart({
        id: 'part_b',
        upload_id: 'upload_u2',
        bytes: 2 ** 32,
        created_at: T0,
      })
      await repos().uploads.insertPart({
        id: 'part_a',
        upload_id: 'upload_u2',
        bytes: 2 ** 32 + 5,
        created_at: T0,
      })
      expect(await repos().uploads.partBytes('upload_u2')).toBe(BIG)
      expect((await repos().uploads.parts('upload_u2')).map((p) => p.id)).toEqual([
        'part_a',
        'part_b',
      ])
      await repos().uploads.deleteParts('upload_u2')
      expect(await repos().uploads.parts('upload_u2')).toEqual([])
    })

    it('moves a pending upload on once; lockPending only holds pending ones', async () => {
      await repos().uploads.insert(upload('proj_u', 'upload_u3'))
      expect(await repos().uploads.lockPending('proj_u', 'upload_u3')).toBe(true)
      expect(await repos().uploads.finish('proj_other', 'upload_u3', 'cancelled')).toBe(false)
      expect(await repos().uploads.finish('proj_u', 'upload_u3', 'completed', 'file-done')).toBe(
        true,
      )
      expect(await repos().uploads.finish('proj_u', 'upload_u3', 'cancelled')).toBe(false)
      expect(await repos().uploads.lockPending('proj_u', 'upload_u3')).toBe(false)
      expect(await repos().uploads.get('proj_u', 'upload_u3')).toMatchObject({
        status: 'completed',
        file_id: 'file-done',
      })
    })

    it('the guarded status change inside a transaction decides between two writers', async () => {
      await repos().uploads.insert(upload('proj_u', 'upload_u4'))
      const results = await Promise.all(
        ['completed', 'cancelled'].map((to) =>
          storage.transaction((tx) =>
            createRepos(tx.db).uploads.finish('proj_u', 'upload_u4', to as 'completed'),
          ),
        ),
      )
      expect(results.filter(Boolean)).toHaveLength(1)
    })

    it('finds expired pending uploads and finished ones that still have parts', async () => {
      await repos().uploads.insert(upload('proj_s', 'upload_s1', { expires_at: T0 + 10 }))
      await repos().uploads.insert(
        upload('proj_s', 'upload_s2', { expires_at: T0 + 10, status: 'cancelled' }),
      )
      await repos().uploads.insertPart({
        id: 'part_s2',
        upload_id: 'upload_s2',
        bytes: 1,
        created_at: T0,
      })
      const expired = await repos().uploads.expiredPending(T0 + 10, 100)
      expect(expired.map((u) => u.id)).toContain('upload_s1')
      expect(expired.map((u) => u.id)).not.toContain('upload_s2')
      const leftovers = await repos().uploads.finishedWithParts(100)
      expect(leftovers.map((u) => u.id)).toContain('upload_s2')
      expect(leftovers.map((u) => u.id)).not.toContain('upload_s1')
    })
  })
})

skippedPgCase('files and uploads repositories on postgres')
