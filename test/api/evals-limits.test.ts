import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LimitsService } from '../../src/domain/limits/service.js'
import type { Principal } from '../../src/principal.js'
import { adminClient, newProjectKey } from '../helpers/admin.js'
import { skippedPgCase, storageCases } from '../helpers/pg.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// An eval run's model calls (the sampled model and model graders) count against the project's
// rate limits for each model, as live requests do; a 429 of the limits is waited out, not an
// errored item; a request that can never fit errors its item; a cancel ends the wait.

const cases = storageCases()
if (cases.length === 1) skippedPgCase('eval run rate limits on PostgreSQL')

const config = { type: 'custom' as const, item_schema: { type: 'object' }, include_sample_schema: true }
const check = { type: 'string_check' as const, name: 'eq', input: '{{sample.output_text}}', reference: '{{item.expected}}', operation: 'eq' as const }
const judge = {
  type: 'label_model' as const,
  name: 'judge',
  model: 'test-echo',
  input: [{ role: 'user' as const, content: 'Is {{sample.output_text}} fine? Answer yes or no.' }],
  labels: ['yes', 'no'],
  passing_labels: ['yes'],
}
const template = { type: 'template' as const, template: [{ role: 'user' as const, content: '{{item.question}}' }] }
const items = (n: number) => Array.from({ length: n }, (_, i) => ({ item: { question: `q${i}`, expected: `q${i}` } }))

describe.each(cases)('eval run rate limits on $name', ({ create }) => {
  let t: TestApp
  let cleanup: () => Promise<void>
  /** reserve calls on the limits, by project: granted and refused with a 429 */
  const reserved = new Map<string, { granted: number; refused: number }>()
  beforeAll(async () => {
    const made = create('eval-limits')
    cleanup = made.cleanup
    t = await createTestApp({}, { storage: made.config })
    t.ctx.jobs.start()
    // the eval service holds this same object: watch what its runs ask of the limits
    const limits = t.ctx.services.limits as LimitsService
    const reserve = limits.reserve.bind(limits)
    limits.reserve = async (principal, model, demand) => {
      const counts = reserved.get(principal.projectId!) ?? { granted: 0, refused: 0 }
      reserved.set(principal.projectId!, counts)
      try {
        const hold = await reserve(principal, model, demand)
        counts.granted++
        return hold
      } catch (error) {
        counts.refused++
        throw error
      }
    }
  })
  afterAll(async () => {
    await t?.close()
    await cleanup?.()
  })

  /** A new project with the given limits on test-echo, its client, and a principal of it. */
  async function limitedProject(limits: Record<string, number>) {
    const admin = adminClient(t).admin.organization.projects
    const project = await admin.create({ name: `limited ${Math.random()}` })
    await admin.rateLimits.updateRateLimit('rl-test-echo', { project_id: project.id, ...limits })
    const client = t.client(await newProjectKey(t, project.id))
    const principal = { projectId: project.id, orgId: t.ctx.organization.id } as Principal
    return { id: project.id, client, principal }
  }

  /** Uses up the project's requests on test-echo, as other traffic would have. */
  async function exhaust(principal: Principal) {
    for (let i = 0; i < 10_000; i++) {
      try {
        await t.ctx.services.limits.reserve(principal, 'test-echo')
      } catch {
        return
      }
    }
    throw new Error('the limit never refused')
  }

  async function waitFor(client: OpenAI, evalId: string, runId: string, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const run = await client.evals.runs.retrieve(runId, { eval_id: evalId })
      if (['completed', 'failed', 'canceled'].includes(run.status)) return run
      if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status}`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }

  it('waits for the requests per minute to come back instead of failing items, and counts every call', async () => {
    // 240 a minute: one more every 250 ms, once the burst is spent
    const p = await limitedProject({ max_requests_per_1_minute: 240 })
    const ev = await p.client.evals.create({ data_source_config: config, testing_criteria: [check, judge] })
    await exhaust(p.principal)
    const before = { ...reserved.get(p.id)! }
    const started = Date.now()
    const run = await p.client.evals.runs.create(ev.id, {
      data_source: { type: 'completions', model: 'test-echo', input_messages: template, source: { type: 'file_content', content: items(3) } },
    })
    const done = await waitFor(p.client, ev.id, run.id)
    // 6 calls (3 samples, 3 judgments), most waiting their 250 ms
    expect(Date.now() - started).toBeGreaterThanOrEqual(750)
    expect(done).toMatchObject({ status: 'completed', error: null, result_counts: { total: 3, errored: 0 } })
    expect(done.per_model_usage![0]).toMatchObject({ model_name: 'test-echo', invocation_count: 6 })
    const outputs = (await p.client.evals.runs.outputItems.list(run.id, { eval_id: ev.id })).data
    expect(outputs.map((o) => o.sample.error)).toEqual([null, null, null])
    expect(outputs.flatMap((o) => o.results.map((r: any) => r.error ?? null))).toEqual(Array(6).fill(null))
    // every call was charged to the project's limits; some had to wait for theirs
    const after = reserved.get(p.id)!
    expect(after.granted - before.granted).toBe(6)
    expect(after.refused - before.refused).toBeGreaterThan(0)
    // and billed to it
    await t.ctx.services.usage.flush()
    const usage = await t.ctx.storage.db
      .selectFrom('usage_records')
      .select((eb) => eb.fn.sum<number>('requests').as('n'))
      .where('project_id', '=', p.id)
      .executeTakeFirst()
    expect(Number(usage?.n)).toBe(6)
  })

  it('errors an item whose request can never fit the tokens per minute, with OpenAI\'s message', async () => {
    const p = await limitedProject({ max_tokens_per_1_minute: 50 })
    const ev = await p.client.evals.create({ data_source_config: config, testing_criteria: [check] })
    const run = await p.client.evals.runs.create(ev.id, {
      data_source: {
        type: 'completions',
        model: 'test-echo',
        input_messages: template,
        sampling_params: { max_completion_tokens: 500 },
        source: { type: 'file_content', content: items(2) },
      },
    })
    const done = await waitFor(p.client, ev.id, run.id)
    expect(done).toMatchObject({ status: 'completed', result_counts: { total: 2, errored: 2, passed: 0, failed: 0 } })
    const [first] = (await p.client.evals.runs.outputItems.list(run.id, { eval_id: ev.id })).data
    expect(first.sample.error).toMatchObject({
      code: 'rate_limit_exceeded',
      message: expect.stringMatching(/^Request too large for test-echo in organization .* on tokens per min \(TPM\): Limit 50, Requested \d+\./),
    })
  })

  it('stops waiting when the run is canceled', async () => {
    // one a minute, already used: the run would wait a minute per call
    const p = await limitedProject({ max_requests_per_1_minute: 1 })
    await exhaust(p.principal)
    const ev = await p.client.evals.create({ data_source_config: config, testing_criteria: [check] })
    const refusedBefore = reserved.get(p.id)!.refused
    const run = await p.client.evals.runs.create(ev.id, {
      data_source: { type: 'completions', model: 'test-echo', input_messages: template, source: { type: 'file_content', content: items(3) } },
    })
    while (reserved.get(p.id)!.refused === refusedBefore) await new Promise((r) => setTimeout(r, 20))
    expect((await p.client.evals.runs.retrieve(run.id, { eval_id: ev.id })).status).toBe('in_progress')
    expect((await p.client.evals.runs.cancel(run.id, { eval_id: ev.id })).status).toBe('canceled')
    // the job sees the cancel at its next heartbeat (2 s) and ends; nothing was written
    const row = await t.ctx.storage.db.selectFrom('eval_runs').select('job_id').where('id', '=', run.id).executeTakeFirstOrThrow()
    const deadline = Date.now() + 8_000
    for (;;) {
      const job = await t.ctx.storage.db.selectFrom('jobs').select('status').where('id', '=', row.job_id!).executeTakeFirstOrThrow()
      if (job.status === 'cancelled') break
      if (Date.now() > deadline) throw new Error(`job still ${job.status}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    expect((await p.client.evals.runs.outputItems.list(run.id, { eval_id: ev.id })).data).toEqual([])
    expect((await p.client.evals.runs.retrieve(run.id, { eval_id: ev.id })).status).toBe('canceled')
  })
})
