import fs from 'node:fs'
import path from 'node:path'
import { toFile } from 'openai'
import { afterAll, describe, expect, it, onTestFailed } from 'vitest'
import { crashDbCases, usageTotals, type CrashDb } from '../helpers/crash-db.js'
import { poll, serverProcesses, type ServerProcess } from '../helpers/server-process.js'

// Usage is exact across crashes (issue 11): a real server is killed by SIGKILL at random points
// of two running batches, several times. After every kill the database at rest must bill exactly
// the lines whose results it holds; once the batches complete, the usage API (from the rollups)
// and the raw usage records must count exactly the output lines, with the same tokens.
//
// The two batches are the two ways the bug showed: `test-echo` lines answer without leaving the
// event loop's microtasks, so the old recorder's setImmediate flush never ran while results were
// committed (usage lost); `test-scripted` lines take 40 ms, so a row flushed before its result
// was (billed twice after the re-run).

const KEY = 'sk-proj-batch-usage-crash-000000000000000'
const ADMIN = 'sk-admin-batch-usage-crash-0000000000000'
const KILLS = 3
const ECHO_LINES = 800
const SCRIPTED_LINES = 200
const servers = serverProcesses(KEY)
afterAll(() => servers.cleanup())

describe.each(crashDbCases())('SIGKILL at random points of batches ($name)', ({ open }) => {
  it('bills every output line exactly once', async () => {
    const dir = servers.dataDir('plinth-batch-usage-')
    const dataDir = path.join(dir, 'data')
    const db = await open(dataDir)
    try {
      const script = path.join(dir, 'script.json')
      fs.writeFileSync(
        script,
        JSON.stringify({ rules: [{ match: 'scripted line', reply: { content: 'done here', delay_ms: 40 } }] }),
      )
      const configFile = path.join(dir, 'config.json')
      fs.writeFileSync(configFile, JSON.stringify({ testModels: { enabled: true, scriptFile: script } }))
      const env = {
        ...db.env,
        PLINTH_CONFIG: configFile,
        PLINTH_BOOTSTRAP_ADMIN_KEY: ADMIN,
        // a killed run's batches are taken over 2 s after its last heartbeat, not 15
        PLINTH_JOBS_LEASE_SECONDS: '2',
      }
      const t0 = Date.now()
      const startedAt = Math.floor(t0 / 1000)
      let server = await servers.start(dataDir, env)
      onTestFailed(() => console.error(`the last server's log:\n${server.output().slice(-5000)}`))

      // both files first, the `test-echo` batch last: while it runs, the server answers nothing
      // (issue 11, item 4), so the test reads its progress from the database, and calls the
      // API again only once both batches have ended
      const scriptedFile = await uploadLines(server, 'test-scripted', SCRIPTED_LINES, (i) => `scripted line ${i}`)
      const echoFile = await uploadLines(server, 'test-echo', ECHO_LINES, (i) =>
        // a few KB each, so the batch lasts long enough to be killed in
        `echo line ${i} ${'lorem ipsum dolor sit amet '.repeat(100)}`,
      )
      const scripted = await createBatch(server, scriptedFile)
      const echo = await createBatch(server, echoFile)
      const batches = [
        { id: echo, model: 'test-echo', lines: ECHO_LINES },
        { id: scripted, model: 'test-scripted', lines: SCRIPTED_LINES },
      ]

      const kills: { atMs: number; delayMs: number; before: number; billed: number }[] = []
      let saved = 0
      for (let k = 0; k < KILLS; k++) {
        // some progress since the last (re)start, then a random moment
        const resumed = await poll(
          () => savedLines(db, batches),
          (n) => n > saved || n === ECHO_LINES + SCRIPTED_LINES,
          'the batches to make progress',
          30_000,
        )
        if (resumed === ECHO_LINES + SCRIPTED_LINES) break
        // the first kill lands early (in the first flushes), the others anywhere in what is left
        const delayMs = Math.floor(Math.random() * (k === 0 ? 200 : 1000))
        await new Promise((r) => setTimeout(r, delayMs))
        await servers.kill(server)
        // at rest: the lines that have a result are the lines billed, no more, no fewer
        saved = await savedLines(db, batches)
        const billed = await billedRequests(db)
        expect({ kill: k, billed }).toEqual({ kill: k, billed: saved })
        kills.push({ atMs: Date.now() - t0, delayMs, before: saved, billed })
        server = await servers.start(dataDir, env)
      }

      for (const b of batches) {
        await poll(
          async () => (await db.rows('select status from batches where id = ?', [b.id]))[0]?.status,
          (status) => ['completed', 'failed', 'expired', 'cancelled'].includes(String(status)),
          `batch ${b.model} to end`,
          40_000,
        )
      }
      const done = []
      for (const b of batches) done.push(await server.client.batches.retrieve(b.id))
      let requests = 0
      let inputTokens = 0
      let outputTokens = 0
      for (const [i, batch] of done.entries()) {
        const lines = batches[i].lines
        expect(batch.status).toBe('completed')
        expect(batch.request_counts).toEqual({ total: lines, completed: lines, failed: 0 })
        const text = await (await server.client.files.content(batch.output_file_id!)).text()
        const output = text.trim().split('\n').map((l) => JSON.parse(l))
        expect(new Set(output.map((o) => o.custom_id)).size).toBe(lines)
        expect(output).toHaveLength(lines)
        for (const o of output) {
          expect(o.response.status_code).toBe(200)
          requests++
          inputTokens += o.response.body.usage.prompt_tokens
          outputTokens += o.response.body.usage.completion_tokens
        }
      }

      // the usage API (the rollups), with an admin key, batch requests only
      const api = await usageTotals(server.url, ADMIN, startedAt - 60, true)
      expect(api).toEqual({ requests, input_tokens: inputTokens, output_tokens: outputTokens })
      // and the raw records, which the rollups are made from
      const [raw] = await db.rows(
        `select count(*) as n, sum(requests) as requests, sum(input_tokens) as input_tokens,
          sum(output_tokens) as output_tokens from usage_records where batch = 1`,
      )
      expect(raw).toEqual({ n: requests, requests, input_tokens: inputTokens, output_tokens: outputTokens })
      // nothing was billed outside the batches
      const [live] = await db.rows('select count(*) as n from usage_records where batch = 0')
      expect(live.n).toBe(0)
      console.info(`batch usage crash: ${JSON.stringify({ kills, requests, inputTokens, outputTokens, ms: Date.now() - t0 })}`)
      await servers.kill(server)
    } finally {
      await db.close()
    }
  }, 90_000)
})

async function uploadLines(server: ServerProcess, model: string, n: number, content: (i: number) => string) {
  const input = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      custom_id: `${model}-${i}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model, messages: [{ role: 'user', content: content(i) }] },
    }),
  ).join('\n')
  const file = await server.client.files.create({
    file: await toFile(Buffer.from(input), `${model}.jsonl`),
    purpose: 'batch',
  })
  return file.id
}

async function createBatch(server: ServerProcess, fileId: string) {
  const batch = await server.client.batches.create({
    input_file_id: fileId,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
  })
  return batch.id
}

/**
 * Lines with a result, read from the database (a batch of `test-echo` lines keeps the API busy).
 * A batch that ended has its lines deleted: all its lines count then.
 */
async function savedLines(db: CrashDb, batches: { id: string; lines: number }[]): Promise<number> {
  let saved = 0
  for (const b of batches) {
    const [row] = await db.rows('select status from batches where id = ?', [b.id])
    if (row?.status === 'completed') {
      saved += b.lines
      continue
    }
    const [lines] = await db.rows(
      "select count(*) as n from batch_lines where batch_id = ? and status <> 'pending'",
      [b.id],
    )
    saved += Number(lines.n)
  }
  return saved
}

async function billedRequests(db: CrashDb): Promise<number> {
  const [row] = await db.rows('select count(*) as n from usage_records where batch = 1')
  return Number(row.n)
}
