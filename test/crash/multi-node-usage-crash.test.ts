import fs from 'node:fs'
import path from 'node:path'
import { toFile } from 'openai'
import { afterAll, expect, it, onTestFailed } from 'vitest'
import { crashDbCases, usageTotals, type CrashDb } from '../helpers/crash-db.js'
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js'
import { describePg } from '../helpers/pg.js'
import { redisPrefix, redisTestUrl } from '../helpers/redis.js'
import { poll, serverProcesses, type ServerProcess } from '../helpers/server-process.js'

// Usage is exact across node deaths (issue 20): two nodes on one PostgreSQL database and one data
// directory run two 100-line batches, 8 lines at a time, one on a test model and one on an
// upstream model (a fake OpenAI server, so each line leaves the process as a real call does),
// and assistants runs streamed from the upstream. The node holding the upstream batch is killed
// by SIGKILL a third of the way, with runs of its own mid-stream; the other node takes the
// batch and the runs over. Every line and every run turn is billed exactly once: the raw records
// and the usage API count 100 per batch and one per run, with the tokens of the output lines and
// of the runs, and the database at rest after the kill bills exactly what it holds results for.

const KEY = 'sk-proj-multi-node-usage-0000000000000000'
const ADMIN = 'sk-admin-multi-node-usage-000000000000000'
const LINES = 100
const RUNS = 6
const servers = serverProcesses(KEY)
let upstream: FakeUpstream | undefined
afterAll(async () => {
  servers.cleanup()
  await upstream?.close()
})

const pgCase = crashDbCases().find((c) => c.name === 'postgres')

describePg('two nodes, one killed a third of the way through batches and mid-run', () => {
  it('bills each of the 2 × 100 lines and each run turn exactly once', async () => {
    // a batch lasts about 2.5 s, a run's streamed answer about 2 s: the kill lands in both
    upstream = await startFakeUpstream({
      behavior: { delayMs: 200, chunkDelayMs: 50, text: 'a b c d e f g h i j k l m n o p q r s t '.repeat(2).trim() },
    })
    const dir = servers.dataDir('plinth-multi-node-usage-')
    const dataDir = path.join(dir, 'data')
    const db = await pgCase!.open(dataDir)
    try {
      const script = path.join(dir, 'script.json')
      fs.writeFileSync(
        script,
        JSON.stringify({ rules: [{ match: 'scripted line', reply: { content: 'done here', delay_ms: 200 } }] }),
      )
      const configFile = path.join(dir, 'config.json')
      fs.writeFileSync(
        configFile,
        JSON.stringify({
          testModels: { enabled: true, scriptFile: script },
          upstreams: [{ id: 'fake', baseURL: upstream.baseURL }],
          models: [{ id: 'up-chat', provider: 'openai-compatible', upstream: 'fake', upstreamModel: 'gpt-4o-mini' }],
          // the nodes share one Redis for rate limits when there is one, as a deployment would
          ...(redisTestUrl() ? { rateLimits: { redisUrl: redisTestUrl(), redisPrefix: redisPrefix('multi-node-usage') } } : {}),
        }),
      )
      const env = {
        ...db.env,
        PLINTH_CONFIG: configFile,
        PLINTH_BOOTSTRAP_ADMIN_KEY: ADMIN,
        PLINTH_BATCH_CONCURRENCY: '8',
        // the killed node's batches are taken over 2 s after its last heartbeat, not 15
        PLINTH_JOBS_LEASE_SECONDS: '2',
      }
      const t0 = Date.now()
      const startedAt = Math.floor(t0 / 1000)
      // one after the other: the first runs the migrations
      const nodes = [await servers.start(dataDir, env)]
      nodes.push(await servers.start(dataDir, env))
      onTestFailed(() => {
        for (const [i, node] of nodes.entries()) console.error(`node ${i}'s log:\n${node.output().slice(-4000)}`)
      })

      const batches = []
      for (const model of ['test-scripted', 'up-chat']) {
        const file = await uploadLines(nodes[0], model)
        const batch = await nodes[0].client.batches.create({
          input_file_id: file,
          endpoint: '/v1/chat/completions',
          completion_window: '24h',
        })
        batches.push({ id: batch.id, model })
      }

      // runs on both nodes (each node's own runs start there), streamed from the upstream
      const runs: { thread: string; run: string }[] = []
      for (let i = 0; i < RUNS; i++) {
        const node = nodes[i % 2]
        const assistant = await node.client.beta.assistants.create({ model: 'up-chat' })
        const thread = await node.client.beta.threads.create({ messages: [{ role: 'user', content: `story ${i}` }] })
        const run = await node.client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id })
        runs.push({ thread: thread.id, run: run.id })
      }

      // a third of the way through the upstream batch, its node dies
      const target = batches[1]
      await poll(() => savedLines(db, target.id), (n) => n >= LINES / 3, 'the upstream batch to be a third done', 30_000)
      const owner = await leaseOwner(db, target.id)
      const victim = nodes.find((n) => owner.includes(`:${n.child.pid}:`))!
      expect(victim, `no node holds ${owner}`).toBeDefined()
      const survivor = nodes.find((n) => n !== victim)!
      const streaming = await runsInProgress(db, runs)
      await servers.kill(victim)
      // at rest: the lines and turns that have a result are the ones billed, no more, no fewer
      const atKill = {
        saved: (await savedLines(db, batches[0].id)) + (await savedLines(db, target.id)),
        billed: await billedLines(db),
        turns: await savedTurns(db),
        billedTurns: await billedTurns(db),
        runsInProgress: streaming,
      }
      // the kill lands mid-batch and mid-run
      expect(atKill.saved).toBeLessThan(2 * LINES)
      expect(streaming).toBeGreaterThan(0)
      expect(atKill.billed).toBe(atKill.saved)
      expect(atKill.billedTurns).toEqual(atKill.turns)

      for (const b of batches) {
        await poll(
          async () => (await db.rows('select status from batches where id = ?', [b.id]))[0]?.status,
          (status) => ['completed', 'failed', 'expired', 'cancelled'].includes(String(status)),
          `batch ${b.model} to end`,
          60_000,
        )
      }
      let requests = 0
      let inputTokens = 0
      let outputTokens = 0
      for (const b of batches) {
        const batch = await survivor.client.batches.retrieve(b.id)
        expect(batch.status).toBe('completed')
        expect(batch.request_counts).toEqual({ total: LINES, completed: LINES, failed: 0 })
        const text = await (await survivor.client.files.content(batch.output_file_id!)).text()
        const output = text.trim().split('\n').map((l) => JSON.parse(l))
        expect(new Set(output.map((o) => o.custom_id)).size).toBe(LINES)
        expect(output).toHaveLength(LINES)
        for (const o of output) {
          expect(o.response.status_code).toBe(200)
          requests++
          inputTokens += o.response.body.usage.prompt_tokens
          outputTokens += o.response.body.usage.completion_tokens
        }
      }
      expect(requests).toBe(2 * LINES)
      // more upstream calls than lines and runs: the killed node's lines and turns in flight ran
      // again, and the lost attempts are what must not be billed
      const upstreamCalls = upstream.requests.filter((r) => r.path.endsWith('/chat/completions')).length
      expect(upstreamCalls).toBeGreaterThan(LINES + RUNS)

      const api = await usageTotals(survivor.url, ADMIN, startedAt - 60, true)
      expect(api).toEqual({ requests, input_tokens: inputTokens, output_tokens: outputTokens })
      const [raw] = await db.rows(
        `select count(*) as n, sum(requests) as requests, sum(input_tokens) as input_tokens,
          sum(output_tokens) as output_tokens from usage_records where batch = 1`,
      )
      expect(raw).toEqual({ n: requests, requests, input_tokens: inputTokens, output_tokens: outputTokens })
      const perModel = await db.rows('select model, count(*) as n from usage_records where batch = 1 group by model order by model')
      expect(perModel).toEqual([
        { model: 'test-scripted', n: LINES },
        { model: 'up-chat', n: LINES },
      ])

      // every run completed with one reply; its one turn is billed once, with the run's tokens
      const turns = { n: 0, input: 0, output: 0 }
      for (const r of runs) {
        const run = await poll(
          () => survivor.client.beta.threads.runs.retrieve(r.run, { thread_id: r.thread }),
          (x) => !['queued', 'in_progress'].includes(x.status),
          `run ${r.run} to end`,
          30_000,
        )
        expect(run.status).toBe('completed')
        const messages = await survivor.client.beta.threads.messages.list(r.thread, { run_id: r.run })
        expect(messages.data.map((m) => m.status)).toEqual(['completed'])
        turns.n++
        turns.input += run.usage!.prompt_tokens
        turns.output += run.usage!.completion_tokens
      }
      const live = await usageTotals(survivor.url, ADMIN, startedAt - 60, false)
      expect(live).toEqual({ requests: turns.n, input_tokens: turns.input, output_tokens: turns.output })
      expect(await billedTurns(db)).toEqual(turns)
      console.info(`multi-node usage crash: ${JSON.stringify({ atKill, upstreamCalls, requests, inputTokens, outputTokens, turns, ms: Date.now() - t0 })}`)
      await servers.kill(survivor)
    } finally {
      await db.close()
    }
  }, 120_000)
})

async function uploadLines(node: ServerProcess, model: string) {
  const input = Array.from({ length: LINES }, (_, i) =>
    JSON.stringify({
      custom_id: `${model}-${i}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model, messages: [{ role: 'user', content: `scripted line ${i}` }] },
    }),
  ).join('\n')
  const file = await node.client.files.create({ file: await toFile(Buffer.from(input), `${model}.jsonl`), purpose: 'batch' })
  return file.id
}

/** Lines with a result; a batch that ended has its lines deleted, all of them count then. */
async function savedLines(db: CrashDb, batchId: string): Promise<number> {
  const [row] = await db.rows('select status from batches where id = ?', [batchId])
  if (row?.status === 'completed') return LINES
  const [lines] = await db.rows("select count(*) as n from batch_lines where batch_id = ? and status <> 'pending'", [batchId])
  return Number(lines.n)
}

async function billedLines(db: CrashDb): Promise<number> {
  const [row] = await db.rows('select count(*) as n from usage_records where batch = 1')
  return Number(row.n)
}

/** Runs not ended yet. */
async function runsInProgress(db: CrashDb, runs: { run: string }[]): Promise<number> {
  const [row] = await db.rows(
    `select count(*) as n from runs where id in (${runs.map(() => '?').join(', ')}) and status = 'in_progress'`,
    runs.map((r) => r.run),
  )
  return Number(row.n)
}

/** Run turns saved: run steps that carry a turn's usage. */
async function savedTurns(db: CrashDb) {
  const turns = { n: 0, input: 0, output: 0 }
  for (const step of await db.rows('select usage from run_steps where usage is not null')) {
    const usage = JSON.parse(String(step.usage))
    turns.n++
    turns.input += usage.prompt_tokens
    turns.output += usage.completion_tokens
  }
  return turns
}

/** Usage rows outside batches (the runs'), and their tokens. */
async function billedTurns(db: CrashDb) {
  const [row] = await db.rows(
    'select count(*) as n, sum(input_tokens) as input, sum(output_tokens) as output from usage_records where batch = 0',
  )
  return { n: Number(row.n), input: Number(row.input ?? 0), output: Number(row.output ?? 0) }
}

/** The runner holding the batch's job: host:pid:random. */
async function leaseOwner(db: CrashDb, batchId: string): Promise<string> {
  const [row] = await db.rows("select lease_owner from jobs where kind = 'batch.run' and payload like ? and status = 'running'", [
    `%${batchId}%`,
  ])
  return String(row?.lease_owner)
}
