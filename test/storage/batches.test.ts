import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/load.js'
import { createContext, type AppContext } from '../../src/context.js'
import { SCRIPT_FILE } from '../helpers/test-context.js'
import type { ProjectPrincipal } from '../../src/principal.js'
import type { BatchRow } from '../../src/storage/repositories/batches.js'
import { createRepos } from '../../src/storage/repositories/index.js'
import { openStorage, type Storage } from '../../src/storage/storage.js'
import { skippedPgCase, storageCases } from '../helpers/pg.js'

// The Batches repository contract, and a batch run by the domain (without the job runner), on
// every dialect.

const T0 = 1_750_000_000

function batch(projectId: string, id: string, over: Partial<BatchRow> = {}): BatchRow {
  return {
    id,
    project_id: projectId,
    org_id: 'org_1',
    api_key_id: 'key_1',
    endpoint: '/v1/chat/completions',
    input_file_id: 'file-1',
    completion_window: '24h',
    status: 'validating',
    output_file_id: null,
    error_file_id: null,
    errors: null,
    metadata: null,
    request_total: 0,
    request_completed: 0,
    request_failed: 0,
    job_id: null,
    created_at: T0,
    in_progress_at: null,
    expires_at: T0 + 86400,
    finalizing_at: null,
    completed_at: null,
    failed_at: null,
    expired_at: null,
    cancelling_at: null,
    cancelled_at: null,
    model: null,
    output_expires_after: null,
    usage_input_tokens: 0,
    usage_cached_tokens: 0,
    usage_output_tokens: 0,
    ...over,
  }
}

const line = (batchId: string, n: number) => ({
  batch_id: batchId,
  line_no: n,
  custom_id: `c-${n}`,
  request: '{}',
  status: 'pending' as const,
  result: null,
})

describe.each(storageCases())('batches repository on $name', ({ create }) => {
  let cleanup: () => Promise<void>
  let storage: Storage
  beforeAll(async () => {
    const made = create('batches')
    cleanup = made.cleanup
    storage = await openStorage(made.config)
  })
  afterAll(async () => {
    await storage?.close()
    await cleanup?.()
  })
  const repos = () => createRepos(storage.db)

  it('scopes batches to their project and pages newest first', async () => {
    // ids whose byte order differs from a linguistic collation's (a < B): keyset pages need bytes
    for (const id of ['batch_A1', 'batch_B1', 'batch_a1', 'batch_b1'])
      await repos().batches.insert(batch('proj_1', id))
    await repos().batches.insert(batch('proj_2', 'batch_Z9'))
    expect(await repos().batches.get('proj_2', 'batch_A1')).toBeUndefined()
    expect((await repos().batches.get('proj_1', 'batch_A1'))?.expires_at).toBe(T0 + 86400)
    const first = await repos().batches.list('proj_1', { limit: 2 })
    expect(first.map((b) => b.id)).toEqual(['batch_b1', 'batch_a1', 'batch_B1'])
    const next = await repos().batches.list('proj_1', { after: 'batch_a1', limit: 2 })
    expect(next.map((b) => b.id)).toEqual(['batch_B1', 'batch_A1'])
  })

  it('moves a batch only from the statuses given, and names each file once', async () => {
    await repos().batches.insert(batch('proj_1', 'batch_t'))
    const b = repos().batches
    expect(await b.transition('proj_1', 'batch_t', ['in_progress'], { status: 'finalizing' })).toBe(
      false,
    )
    expect(
      await b.transition('proj_1', 'batch_t', ['validating'], {
        status: 'in_progress',
        in_progress_at: T0 + 1,
      }),
    ).toBe(true)
    expect(await b.transition('proj_2', 'batch_t', ['in_progress'], { status: 'cancelling' })).toBe(
      false,
    )
    expect(await b.setFile('proj_1', 'batch_t', 'output_file_id', 'file-a')).toBe(true)
    expect(await b.setFile('proj_1', 'batch_t', 'output_file_id', 'file-b')).toBe(false)
    expect(await b.addCounts('proj_1', 'batch_t', 3, 1)).toEqual({
      status: 'in_progress',
      expires_at: T0 + 86400,
    })
    await b.addCounts('proj_1', 'batch_t', 2, 0)
    expect(await b.get('proj_1', 'batch_t')).toMatchObject({
      output_file_id: 'file-a',
      request_completed: 5,
      request_failed: 1,
      in_progress_at: T0 + 1,
    })
  })

  it('keeps each line and each result once, in input order', async () => {
    const lines = repos().batchLines
    await lines.insert([1, 2, 3, 4, 5].map((n) => line('batch_l', n)))
    // a validation run again after a crash inserts the same lines again: nothing changes
    await lines.insert([4, 5, 6].map((n) => line('batch_l', n)))
    expect((await lines.pending('batch_l', 0, 10)).map((l) => l.line_no)).toEqual([
      1, 2, 3, 4, 5, 6,
    ])
    expect((await lines.pending('batch_l', 2, 2)).map((l) => l.line_no)).toEqual([3, 4])
    const counts = await lines.record('batch_l', [
      { line_no: 2, status: 'completed', result: '{"n":2}' },
      { line_no: 5, status: 'failed', result: '{"n":5}' },
      { line_no: 1, status: 'completed', result: '{"n":1}' },
    ])
    expect(counts).toEqual({ completed: 2, failed: 1, written: new Set([1, 2, 5]) })
    // an overlapping run's results for the same lines are not written, nor counted
    expect(
      await lines.record('batch_l', [
        { line_no: 2, status: 'failed', result: '{"late":true}' },
        { line_no: 3, status: 'completed', result: '{"n":3}' },
      ]),
    ).toEqual({ completed: 1, failed: 0, written: new Set([3]) })
    expect((await lines.pending('batch_l', 0, 10)).map((l) => l.line_no)).toEqual([4, 6])
    expect(await lines.results('batch_l', 'completed', 0, 10)).toEqual([
      { line_no: 1, result: '{"n":1}' },
      { line_no: 2, result: '{"n":2}' },
      { line_no: 3, result: '{"n":3}' },
    ])
    expect(await lines.results('batch_l', 'failed', 0, 10)).toEqual([
      { line_no: 5, result: '{"n":5}' },
    ])
    await lines.delete('batch_l')
    expect(await lines.pending('batch_l', 0, 10)).toEqual([])
  })

  it('finds unfinished batches that need a job and have none alive', async () => {
    const now = T0 + 100_000
    const jobs = repos().jobs
    const alive = await jobs.enqueue('batch.run', {})
    const ended = await jobs.enqueue('batch.run', {})
    await jobs.requestCancel(ended)
    const b = repos().batches
    await b.insert(batch('proj_3', 'batch_o1', { status: 'cancelling', job_id: ended }))
    await b.insert(batch('proj_3', 'batch_o2', { status: 'in_progress', job_id: 'job_gone' }))
    await b.insert(batch('proj_3', 'batch_o3', { status: 'in_progress', job_id: alive }))
    await b.insert(
      batch('proj_3', 'batch_o4', { status: 'in_progress', job_id: ended, expires_at: now + 10 }),
    )
    await b.insert(batch('proj_3', 'batch_o5', { status: 'completed', job_id: ended }))
    const orphans = await b.orphaned(now, 10)
    expect(orphans.filter((o) => o.project_id === 'proj_3').map((o) => o.id)).toEqual([
      'batch_o1',
      'batch_o2',
    ])
  })
})
skippedPgCase('batches repository on postgres')

describe.each(storageCases())('a batch run by the domain on $name', ({ create }) => {
  let cleanup: () => Promise<void>
  let ctx: AppContext
  let dataDir: string
  let principal: ProjectPrincipal
  beforeAll(async () => {
    const made = create('batchrun')
    cleanup = made.cleanup
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-batchrun-'))
    const config = parseConfig({ dataDir, testModels: { enabled: true, scriptFile: SCRIPT_FILE } })
    ctx = await createContext(config, { storage: await openStorage(made.config) })
    const project = (await createRepos(ctx.storage.db).projects.list(ctx.organization.id))[0]
    principal = {
      orgId: ctx.organization.id,
      projectId: project.id,
      keyId: 'key_test',
      kind: 'project',
      permissions: { mode: 'all' },
    }
  })
  afterAll(async () => {
    await ctx?.close()
    await cleanup?.()
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true })
  })

  async function newBatch(count: number, slow = false) {
    const text = Array.from({ length: count }, (_, i) =>
      JSON.stringify({
        custom_id: `line-${i + 1}`,
        method: 'POST',
        url: '/v1/chat/completions',
        // slow lines (the scripted model's "go slowly", 50 ms a chunk) for a run that must still
        // be under way when it is stopped
        body: slow
          ? { model: 'test-scripted', messages: [{ role: 'user', content: `go slowly ${i + 1}` }] }
          : { model: 'test-echo', messages: [{ role: 'user', content: `text ${i + 1}` }] },
      }),
    ).join('\n')
    const file = await ctx.services.files.createFromStream(
      principal.projectId,
      { filename: 'in.jsonl', purpose: 'batch' },
      (async function* () {
        yield Buffer.from(text)
      })(),
    )
    return ctx.services.batches.create(principal, {
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    })
  }

  const run = (id: string) =>
    ctx.services.batches.run(
      { batchId: id, projectId: principal.projectId },
      { signal: new AbortController().signal, lastAttempt: false },
    )

  async function outputIds(fileId: string) {
    const content = await ctx.services.files.content(principal, fileId)
    let text = ''
    for await (const chunk of await content.open()) text += Buffer.from(chunk).toString()
    return text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
  }

  it('validates, runs every line and completes with the output file', async () => {
    const created = await newBatch(30)
    await run(created.id)
    const done = await ctx.services.batches.get(principal, created.id)
    expect(done).toMatchObject({
      status: 'completed',
      request_counts: { total: 30, completed: 30, failed: 0 },
    })
    const output = await outputIds(done.output_file_id!)
    expect(output.map((o) => o.custom_id)).toEqual(
      Array.from({ length: 30 }, (_, i) => `line-${i + 1}`),
    )
    const usage = await ctx.storage.db
      .selectFrom('usage_records')
      .select('batch')
      .where('api_key_id', '=', 'key_test')
      .execute()
    expect(usage.length).toBe(30)
    expect(usage.every((u) => u.batch === 1)).toBe(true)
    // running it again (at least once delivery) changes nothing
    await run(created.id)
    expect(await ctx.services.batches.get(principal, created.id)).toEqual(done)
  })

  it('runs through the job runner, and cancels', async () => {
    ctx.jobs.start()
    const wait = async (id: string, status: string) => {
      for (let i = 0; i < 2000; i++) {
        const b = await ctx.services.batches.get(principal, id)
        if (b.status === status) return b
        await new Promise((r) => setTimeout(r, 10))
      }
      throw new Error(`batch ${id} never ${status}`)
    }
    const done = await wait((await newBatch(5)).id, 'completed')
    expect(done.request_counts).toEqual({ total: 5, completed: 5, failed: 0 })
    const toCancel = await newBatch(3)
    await ctx.services.batches.cancel(principal, toCancel.id)
    expect((await wait(toCancel.id, 'cancelled')).status).toBe('cancelled')
    await ctx.jobs.destroy()
  })

  it('a run after a crash runs only the lines without a result: each custom_id once', async () => {
    const created = await newBatch(20, true)
    const repos = createRepos(ctx.storage.db)
    // as if a first run had validated, written 7 results and died
    const stop = new AbortController()
    const lines = repos.batchLines
    const first = ctx.services.batches.run(
      { batchId: created.id, projectId: principal.projectId },
      { signal: stop.signal, lastAttempt: false },
    )
    for (;;) {
      const b = await repos.batches.get(principal.projectId, created.id)
      if (b!.status === 'in_progress') break
      await new Promise((r) => setTimeout(r, 2))
    }
    stop.abort()
    await first.catch(() => undefined)
    const pending = await lines.pending(created.id, 0, 100)
    const earlier = pending.slice(0, 7).map((l) => ({
      line_no: l.line_no,
      status: 'completed' as const,
      result: JSON.stringify({
        id: 'batch_req_earlier',
        custom_id: l.custom_id,
        response: null,
        error: null,
      }),
    }))
    const counts = await lines.record(created.id, earlier)
    await repos.batches.addCounts(principal.projectId, created.id, counts.completed, counts.failed)

    await run(created.id)
    const done = await ctx.services.batches.get(principal, created.id)
    expect(done.status).toBe('completed')
    expect(done.request_counts).toEqual({ total: 20, completed: 20, failed: 0 })
    const output = await outputIds(done.output_file_id!)
    expect(output.map((o) => o.custom_id).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `line-${i + 1}`).sort(),
    )
    // the results written before the crash were kept, not run again
    expect(output.filter((o) => o.id === 'batch_req_earlier').length).toBe(earlier.length)
  })
})
skippedPgCase('a batch run by the domain on postgres')
