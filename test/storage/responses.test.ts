import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newId } from '../../src/storage/ids.js'
import { createRepos } from '../../src/storage/repositories/index.js'
import { openStorage, type Storage } from '../../src/storage/storage.js'
import { skippedPgCase, storageCases } from '../helpers/pg.js'

// The responses repository on every dialect: items in order, keyset pages over positions,
// item lookup and deletion, each scoped to its project.

describe.each(storageCases())('responses repository on $name', ({ create }) => {
  let storage: Storage
  let cleanup: () => Promise<void>
  beforeAll(async () => {
    const made = create('responses')
    cleanup = made.cleanup
    storage = await openStorage(made.config)
  })
  afterAll(async () => {
    await storage?.close()
    await cleanup?.()
  })

  const P = 'proj_a'
  const repo = () => createRepos(storage.db).responses

  async function insert(projectId: string, inputIds: string[], outputIds: string[] = []) {
    const id = newId('resp_')
    const item = (kind: 'input' | 'output', itemId: string, position: number) => ({
      response_id: id,
      project_id: projectId,
      kind,
      position,
      id: itemId,
      item: JSON.stringify({ id: itemId }),
    })
    await storage.transaction((tx) =>
      createRepos(tx.db).responses.insert(
        { id, project_id: projectId, created_at: 1_750_000_000, model: 'm', status: 'completed', previous_response_id: null, body: '{}' },
        [...inputIds.map((x, i) => item('input', x, i)), ...outputIds.map((x, i) => item('output', x, i))],
      ),
    )
    return id
  }

  it('keeps items in order and finds them only in their project', async () => {
    // ids that do not sort in their order: pages follow positions, not ids
    const id = await insert(P, ['msg_z', 'msg_a', 'fc_m'], ['msg_out'])
    expect((await repo().items(P, id, 'input')).map((r) => r.id)).toEqual(['msg_z', 'msg_a', 'fc_m'])
    expect((await repo().items(P, id, 'output')).map((r) => r.id)).toEqual(['msg_out'])
    expect((await repo().findItem(P, 'msg_a'))?.response_id).toBe(id)
    expect(await repo().findItem('proj_b', 'msg_a')).toBeUndefined()
    expect(await repo().get('proj_b', id)).toBeUndefined()
  })

  it('pages input items by position, after and before, both orders', async () => {
    const id = await insert(P, ['i3', 'i1', 'i2', 'i0'])
    const ids = async (page: Parameters<ReturnType<typeof repo>['inputPage']>[2]) => {
      const got = (await repo().inputPage(P, id, page))!
      return [got.rows.map((r) => r.id), got.hasMore]
    }
    expect(await ids({ limit: 2, order: 'asc' })).toEqual([['i3', 'i1'], true])
    expect(await ids({ limit: 2, order: 'asc', after: 'i1' })).toEqual([['i2', 'i0'], false])
    expect(await ids({ limit: 2, order: 'desc' })).toEqual([['i0', 'i2'], true])
    expect(await ids({ limit: 2, order: 'asc', before: 'i0' })).toEqual([['i1', 'i2'], true])
    expect(await ids({ limit: 5, order: 'desc', before: 'i1' })).toEqual([['i0', 'i2'], false])
    expect(await repo().inputPage(P, id, { limit: 2, order: 'asc', after: 'nope' })).toBeUndefined()
  })

  it('deletes a response with its items, in its project only', async () => {
    const id = await insert(P, ['del_in'], ['del_out'])
    expect(await repo().delete('proj_b', id)).toBe(false)
    expect(await repo().delete(P, id)).toBe(true)
    expect(await repo().get(P, id)).toBeUndefined()
    expect(await repo().findItem(P, 'del_in')).toBeUndefined()
  })
})

skippedPgCase('responses repository on postgres')
