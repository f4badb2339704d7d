import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { StorageConfig } from '../../src/storage/dialect.js'
import { newId } from '../../src/storage/ids.js'
import type { AssistantRow } from '../../src/storage/repositories/assistants.js'
import { createRepos } from '../../src/storage/repositories/index.js'
import type { MessageRow } from '../../src/storage/repositories/messages.js'
import { openStorage, type Storage } from '../../src/storage/storage.js'
import { skippedPgCase, storageCases } from '../helpers/pg.js'

// The assistants, threads and messages repositories: the same assertions on every dialect.

const T0 = 1_750_000_000

function assistant(projectId: string, over: Partial<AssistantRow> = {}): AssistantRow {
  return {
    id: newId('asst_'),
    project_id: projectId,
    created_at: T0,
    name: null,
    description: null,
    model: 'test-echo',
    instructions: null,
    tools: '[]',
    tool_resources: '{}',
    file_attached_at: '{}',
    metadata: '{}',
    temperature: null,
    top_p: null,
    response_format: null,
    reasoning_effort: null,
    ...over,
  }
}

function thread(projectId: string, id = newId('thread_')) {
  return {
    id,
    project_id: projectId,
    created_at: T0,
    tool_resources: '{}',
    metadata: '{}',
    active_run_id: null,
  }
}

function message(projectId: string, threadId: string, over: Partial<MessageRow> = {}): MessageRow {
  return {
    id: newId('msg_'),
    project_id: projectId,
    thread_id: threadId,
    created_at: T0,
    role: 'user',
    content: '[]',
    attachments: '[]',
    metadata: '{}',
    status: 'completed',
    incomplete_details: null,
    completed_at: T0,
    incomplete_at: null,
    assistant_id: null,
    run_id: null,
    token_count: null,
    ...over,
  }
}

describe.each(storageCases())('assistants repositories on $name', ({ create }) => {
  let config: StorageConfig
  let cleanup: () => Promise<void>
  let storage: Storage
  const project = newId('proj_')

  beforeAll(async () => {
    ;({ config, cleanup } = create('assistants'))
    storage = await openStorage(config)
  })
  afterAll(async () => {
    await storage?.close()
    await cleanup?.()
  })

  const repos = () => createRepos(storage.db)

  it('stores an assistant as given, floats and nulls included, scoped to its project', async () => {
    const row = assistant(project, {
      name: 'A',
      temperature: 0.7,
      top_p: 0.35,
      response_format: '{"type":"json_object"}',
      metadata: '{"k":"v"}',
    })
    await repos().assistants.insert(row)
    expect(await repos().assistants.get(project, row.id)).toEqual(row)
    expect(await repos().assistants.get(newId('proj_'), row.id)).toBeUndefined()
    expect(await repos().assistants.update(project, row.id, { name: 'B', temperature: null })).toBe(
      true,
    )
    expect(await repos().assistants.get(project, row.id)).toEqual({
      ...row,
      name: 'B',
      temperature: null,
    })
    expect(await repos().assistants.lock(project, row.id)).toBe(true)
    expect(await repos().assistants.lock(newId('proj_'), row.id)).toBe(false)
    expect(await repos().assistants.delete(newId('proj_'), row.id)).toBe(false)
    expect(await repos().assistants.delete(project, row.id)).toBe(true)
    expect(await repos().assistants.get(project, row.id)).toBeUndefined()
  })

  it('pages by id in byte order, both ways, whatever the collation', async () => {
    const p = newId('proj_')
    // ids that a linguistic collation orders differently from bytes (Z < a)
    const ids = ['asst_A', 'asst_Z', 'asst_a', 'asst_b', 'asst_z']
    for (const id of [...ids].reverse()) await repos().assistants.insert(assistant(p, { id }))
    const ids_ = async (q: Parameters<ReturnType<typeof repos>['assistants']['list']>[1]) => {
      const page = await repos().assistants.list(p, q)
      return [page.rows.map((r) => r.id), page.hasMore]
    }
    expect(await ids_({ limit: 2, order: 'asc' })).toEqual([['asst_A', 'asst_Z'], true])
    expect(await ids_({ limit: 2, order: 'asc', after: 'asst_Z' })).toEqual([
      ['asst_a', 'asst_b'],
      true,
    ])
    expect(await ids_({ limit: 9, order: 'desc' })).toEqual([[...ids].reverse(), false])
    expect(await ids_({ limit: 2, order: 'desc', after: 'asst_b' })).toEqual([
      ['asst_a', 'asst_Z'],
      true,
    ])
    expect(await ids_({ limit: 2, order: 'asc', before: 'asst_b' })).toEqual([
      ['asst_Z', 'asst_a'],
      true,
    ])
    expect(await ids_({ limit: 2, order: 'desc', before: 'asst_Z' })).toEqual([
      ['asst_b', 'asst_a'],
      true,
    ])
    expect(await ids_({ limit: 5, order: 'asc', after: 'asst_A', before: 'asst_z' })).toEqual([
      ['asst_Z', 'asst_a', 'asst_b'],
      false,
    ])
  })

  it('keeps messages per thread, filters by run, and deletes a thread with its messages', async () => {
    const [a, b] = [thread(project), thread(project)]
    await repos().threads.insert(a)
    await repos().threads.insert(b)
    const m1 = message(project, a.id)
    const m2 = message(project, a.id, {
      role: 'assistant',
      run_id: 'run_1',
      assistant_id: 'asst_1',
      status: 'in_progress',
      completed_at: null,
    })
    const m3 = message(project, b.id)
    await repos().messages.insert(m1, m2, m3)
    expect(await repos().messages.get(project, a.id, m1.id)).toEqual(m1)
    expect(await repos().messages.get(project, b.id, m1.id)).toBeUndefined()
    expect((await repos().messages.all(project, a.id)).map((m) => m.id)).toEqual([m1.id, m2.id])
    const run = await repos().messages.list(project, a.id, {
      limit: 10,
      order: 'desc',
      runId: 'run_1',
    })
    expect(run.rows).toEqual([m2])

    // the run engine finishing its message
    const patch = {
      status: 'incomplete' as const,
      incomplete_details: '{"reason":"max_tokens"}',
      incomplete_at: T0 + 5,
    }
    expect(await repos().messages.update(project, a.id, m2.id, patch)).toBe(true)
    expect(await repos().messages.get(project, a.id, m2.id)).toEqual({ ...m2, ...patch })

    expect(await repos().messages.deleteThread(project, a.id)).toBe(2)
    expect(await repos().threads.delete(project, a.id)).toBe(true)
    expect(await repos().messages.get(project, b.id, m3.id)).toEqual(m3)
  })

  it("refuses a message whose thread does not exist (the thread's foreign key)", async () => {
    await expect(repos().messages.insert(message(project, 'thread_missing'))).rejects.toThrow()
  })

  it('lets one run at a time hold a thread', async () => {
    const th = thread(project)
    await repos().threads.insert(th)
    expect(await repos().threads.claimForRun(project, th.id, 'run_a')).toBe(true)
    expect(await repos().threads.claimForRun(project, th.id, 'run_b')).toBe(false)
    expect(await repos().threads.releaseFromRun(project, th.id, 'run_b')).toBe(false)
    expect((await repos().threads.get(project, th.id))?.active_run_id).toBe('run_a')
    expect(await repos().threads.releaseFromRun(project, th.id, 'run_a')).toBe(true)
    expect(await repos().threads.claimForRun(project, th.id, 'run_b')).toBe(true)
  })

  it('serializes read-modify-writes on a locked assistant', async () => {
    const row = assistant(project, {
      tool_resources: JSON.stringify({ code_interpreter: { file_ids: [] } }),
    })
    await repos().assistants.insert(row)
    // two transactions that each append a file under the row lock: both appends survive
    const append = (fileId: string) =>
      storage.transaction(async (tx) => {
        const r = createRepos(tx.db).assistants
        await r.lock(project, row.id)
        const current = JSON.parse((await r.get(project, row.id))!.tool_resources)
        await new Promise((resolve) => setTimeout(resolve, 20))
        current.code_interpreter.file_ids.push(fileId)
        await r.update(project, row.id, { tool_resources: JSON.stringify(current) })
      })
    await Promise.all([append('file-1'), append('file-2')])
    const files = JSON.parse((await repos().assistants.get(project, row.id))!.tool_resources)
      .code_interpreter.file_ids
    expect([...files].sort()).toEqual(['file-1', 'file-2'])
  })
})

skippedPgCase('assistants repositories on postgres')
