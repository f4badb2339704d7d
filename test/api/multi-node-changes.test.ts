import { afterAll, beforeAll, expect, it } from 'vitest'
import { adminClient, newProjectKey } from '../helpers/admin.js'
import { describePg, withPgSchema, type PgSchema } from '../helpers/pg.js'
import { createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// Issue 20: a change made through node A (a rate limit, a revoked key, model permissions, an
// archived project) applies on node B, which has the old state cached, within the documented
// bound (`changes.maxStaleMs`, 1 s). Two nodes are two contexts in this process on one
// PostgreSQL schema, each with its own pool, caches, limiter and change listener. Node B is
// checked twice: with the notifications (milliseconds) and with its listener gone, where only
// the bound holds.

const BOUND_MS = 1000
/** what the test's own scheduling may add to a measured delay (two cores, shared) */
const SLACK_MS = 400
const BURST = 20
const LIMIT = 10

function chat(node: TestApp, key: string, model = 'test-echo') {
  return node.fetch(`${node.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  })
}

/** `count` requests to the node at once: how many passed, and every other status seen. */
async function burst(node: TestApp, key: string, model: string, count = BURST) {
  const answers = await Promise.all(Array.from({ length: count }, () => chat(node, key, model)))
  const statuses = answers.map((a) => a.status)
  await Promise.all(answers.map((a) => a.body?.cancel()))
  return { passed: statuses.filter((s) => s === 200).length, others: [...new Set(statuses.filter((s) => s !== 200))] }
}

/** Polls `check` (in process, no request counted) until it is true; the ms it took. */
async function msUntil(check: () => Promise<boolean>, giveUpMs = 5000): Promise<number> {
  const t0 = performance.now()
  while (!(await check())) {
    if (performance.now() - t0 > giveUpMs) throw new Error(`not seen within ${giveUpMs} ms`)
    await new Promise((r) => setTimeout(r, 2))
  }
  return performance.now() - t0
}

const refused = (node: TestApp, key: string) => () =>
  node.ctx.services.keys.authenticate(key).then(
    () => false,
    () => true,
  )

const measured: Record<string, number> = {}

for (const listener of ['notified', 'listener gone'] as const) {
  describePg(`two nodes on one PostgreSQL: changes on node A apply on node B (${listener})`, () => {
    let schema: PgSchema
    let a: TestApp
    let b: TestApp
    let projectId: string
    const bound = listener === 'notified' ? BOUND_MS : BOUND_MS + SLACK_MS

    beforeAll(async () => {
      schema = withPgSchema(`changes ${listener}`)
      a = await createTestApp({}, { storage: schema.config })
      b = await createTestApp({}, { storage: schema.config })
      expect(b.ctx.config.changes.maxStaleMs).toBe(BOUND_MS)
      projectId = a.ctx.bootstrap.created!.project.id
      // node B hears nothing from now on: what it caches is bounded by its age alone
      if (listener === 'listener gone') await b.ctx.storage.changes.close()
    })
    afterAll(async () => {
      await b?.close()
      await a?.close()
      await schema?.drop()
      console.info(`change propagation (${listener}): ${JSON.stringify(measured)}`)
    })

    it('a lower rate limit holds on node B, under concurrent requests', async () => {
      // node B has the key and the project's limits cached (test-scripted: test-echo's counter stays empty)
      expect((await chat(b, PROJECT_KEY, 'test-scripted')).headers.get('x-ratelimit-limit-requests')).toBe('1000000')
      await adminClient(a).admin.organization.projects.rateLimits.updateRateLimit('rl-test-echo', {
        project_id: projectId,
        max_requests_per_1_minute: LIMIT,
      })
      const ms = await msUntil(async () => (await b.ctx.services.limits.limitsFor(projectId, 'test-echo')).max_requests_per_1_minute === LIMIT)
      measured[`rate limit ${listener}`] = Math.round(ms)
      expect(ms).toBeLessThan(bound)
      const { passed, others } = await burst(b, PROJECT_KEY, 'test-echo')
      expect({ passed, others }).toEqual({ passed: LIMIT, others: [429] })
    })

    it('a revoked key is refused on node B', async () => {
      const secret = await newProjectKey(a, projectId)
      // test-echo is the project's limited model now
      expect((await chat(b, secret, 'test-scripted')).status).toBe(200)
      const admin = adminClient(a).admin.organization.projects
      const key = (await admin.apiKeys.list(projectId)).data.find((k) => k.redacted_value.endsWith(secret.slice(-4)))!
      await admin.apiKeys.delete(key.id, { project_id: projectId })
      const ms = await msUntil(refused(b, secret))
      measured[`revoked key ${listener}`] = Math.round(ms)
      expect(ms).toBeLessThan(bound)
      const { passed, others } = await burst(b, secret, 'test-scripted', 8)
      expect({ passed, others }).toEqual({ passed: 0, others: [401] })
    })

    it('a model denied on node A is refused on node B', async () => {
      const admin = adminClient(a).admin.organization.projects
      const project = await admin.create({ name: `models ${listener}` })
      const secret = await newProjectKey(a, project.id)
      expect((await chat(b, secret, 'test-scripted')).status).toBe(200)
      await admin.modelPermissions.update(project.id, { mode: 'deny_list', model_ids: ['test-scripted'] })
      const ms = await msUntil(async () => {
        const principal = await b.ctx.services.keys.authenticate(secret)
        return principal.models?.modelIds.includes('test-scripted') === true
      })
      measured[`model permissions ${listener}`] = Math.round(ms)
      expect(ms).toBeLessThan(bound)
      const { passed, others } = await burst(b, secret, 'test-scripted', 8)
      expect({ passed, others }).toEqual({ passed: 0, others: [403] })
      // the other models still answer
      expect((await chat(b, secret, 'test-echo')).status).toBe(200)
    })

    it("an archived project's keys are refused on node B", async () => {
      const admin = adminClient(a).admin.organization.projects
      const project = await admin.create({ name: `archived ${listener}` })
      const secret = await newProjectKey(a, project.id)
      expect((await chat(b, secret)).status).toBe(200)
      await admin.archive(project.id)
      const ms = await msUntil(refused(b, secret))
      measured[`archived project ${listener}`] = Math.round(ms)
      expect(ms).toBeLessThan(bound)
      const { passed, others } = await burst(b, secret, 'test-echo', 8)
      expect({ passed, others }).toEqual({ passed: 0, others: [401] })
    })
  })
}
