import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it, onTestFailed } from 'vitest'
import { crashDbCases, usageTotals, type CrashDb } from '../helpers/crash-db.js'
import { poll, serverProcesses, type ServerProcess } from '../helpers/server-process.js'

// Usage is exact across crashes (issue 11), for assistants runs: runs of one thread, one after
// another, half of them two turns (a tool call, then the answer to its output), while a real
// server is killed by SIGKILL at random points. After every kill the database at rest bills
// exactly the turns it saved (one usage row per run step that carries a turn's usage, same
// tokens, same as the runs' usage); at the end every run completed with one reply, and the usage
// API and the raw records count exactly the turns the runs report.

const KEY = 'sk-proj-run-usage-crash-00000000000000000'
const ADMIN = 'sk-admin-run-usage-crash-000000000000000'
const RUNS = 8
const KILLS = 4
const servers = serverProcesses(KEY)
afterAll(() => servers.cleanup())

type Phase = { run: number; phase: 'start' | 'tools' }

describe.each(crashDbCases())('SIGKILL at random points of runs ($name)', ({ open }) => {
  it('bills every saved turn exactly once', async () => {
    const dir = servers.dataDir('plinth-run-usage-')
    const dataDir = path.join(dir, 'data')
    const db = await open(dataDir)
    try {
      const script = path.join(dir, 'script.json')
      fs.writeFileSync(
        script,
        JSON.stringify({
          rules: [
            { match: 'use the lookup tool', reply: { tool_calls: [{ name: 'lookup', arguments: { q: 'x' } }], delay_ms: 300 } },
            {
              match: 'tell a slow story',
              reply: { content: 'a b c d e f g h i j k l m n o p q r s t u v w x y z', chunk_delay_ms: 30 },
            },
          ],
        }),
      )
      const configFile = path.join(dir, 'config.json')
      fs.writeFileSync(configFile, JSON.stringify({ testModels: { enabled: true, scriptFile: script } }))
      const env = {
        ...db.env,
        PLINTH_CONFIG: configFile,
        PLINTH_BOOTSTRAP_ADMIN_KEY: ADMIN,
        // a killed run's job is taken over 2 s after its last heartbeat, not 10
        PLINTH_JOBS_LEASE_SECONDS: '2',
      }
      const t0 = Date.now()
      const startedAt = Math.floor(t0 / 1000)
      let server = await servers.start(dataDir, env)
      onTestFailed(() => console.error(`the last server's log:\n${server.output().slice(-5000)}`))
      const assistant = await server.client.beta.assistants.create({
        model: 'test-scripted',
        tools: [
          {
            type: 'function',
            function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } },
          },
        ],
      })
      const thread = await server.client.beta.threads.create()

      // the kills: at random phases (a run's start, or its second turn after the tool output),
      // each at a random moment of it; one per phase, as each phase is one job of 3 attempts
      const phases: Phase[] = []
      for (let run = 0; run < RUNS; run++) {
        phases.push({ run, phase: 'start' })
        if (run % 2 === 0) phases.push({ run, phase: 'tools' })
      }
      const killAt = new Map<string, number>()
      for (const p of shuffle(phases).slice(0, KILLS)) killAt.set(`${p.run}:${p.phase}`, Math.floor(Math.random() * 900))
      const kills: { at: string; delayMs: number; turns: number }[] = []
      const maybeKill = async (p: Phase) => {
        const delayMs = killAt.get(`${p.run}:${p.phase}`)
        if (delayMs === undefined) return
        await new Promise((r) => setTimeout(r, delayMs))
        await servers.kill(server)
        const rest = await atRest(db)
        expect(rest.billed).toEqual(rest.saved)
        expect(rest.billed).toEqual(rest.runs)
        kills.push({ at: `${p.run}:${p.phase}`, delayMs, turns: rest.billed.requests })
        server = await servers.start(dataDir, env)
      }

      const runIds: string[] = []
      for (let i = 0; i < RUNS; i++) {
        const tool = i % 2 === 0
        await server.client.beta.threads.messages.create(thread.id, {
          role: 'user',
          content: tool ? `please use the lookup tool (${i})` : `tell a slow story (${i})`,
        })
        const run = await server.client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id })
        runIds.push(run.id)
        await maybeKill({ run: i, phase: 'start' })
        let state = await settled(server, thread.id, run.id)
        if (tool) {
          expect(state.status).toBe('requires_action')
          const calls = state.required_action!.submit_tool_outputs.tool_calls
          await server.client.beta.threads.runs.submitToolOutputs(run.id, {
            thread_id: thread.id,
            tool_outputs: calls.map((c) => ({ tool_call_id: c.id, output: 'found it' })),
          })
          await maybeKill({ run: i, phase: 'tools' })
          state = await settled(server, thread.id, run.id)
        }
        expect(state.status).toBe('completed')
      }

      // every run completed with exactly one reply, and its usage is its turns'
      let turns = 0
      let prompt = 0
      let completion = 0
      for (const [i, id] of runIds.entries()) {
        const run = await server.client.beta.threads.runs.retrieve(id, { thread_id: thread.id })
        const messages = await server.client.beta.threads.messages.list(thread.id, { run_id: id })
        expect(messages.data.map((m) => m.status)).toEqual(['completed'])
        const steps = await server.client.beta.threads.runs.steps.list(id, { thread_id: thread.id })
        const billedSteps = steps.data.filter((s) => s.usage)
        expect(billedSteps).toHaveLength(i % 2 === 0 ? 2 : 1)
        turns += billedSteps.length
        prompt += run.usage!.prompt_tokens
        completion += run.usage!.completion_tokens
        expect(billedSteps.reduce((sum, s) => sum + s.usage!.prompt_tokens, 0)).toBe(run.usage!.prompt_tokens)
      }
      const all = await server.client.beta.threads.messages.list(thread.id, { limit: 100 })
      expect(all.data.filter((m) => m.role === 'assistant')).toHaveLength(RUNS)

      const api = await usageTotals(server.url, ADMIN, startedAt - 60, false)
      expect(api).toEqual({ requests: turns, input_tokens: prompt, output_tokens: completion })
      const rest = await atRest(db)
      expect(rest.billed).toEqual({ requests: turns, prompt, completion })
      console.info(`run usage crash: ${JSON.stringify({ kills, turns, prompt, completion, ms: Date.now() - t0 })}`)
      await servers.kill(server)
    } finally {
      await db.close()
    }
  }, 90_000)
})

/** The run once it waits for the client or has ended (it resumes by itself after a kill). */
function settled(server: ServerProcess, threadId: string, runId: string) {
  return poll(
    () => server.client.beta.threads.runs.retrieve(runId, { thread_id: threadId }),
    (r) => !['queued', 'in_progress', 'cancelling'].includes(r.status),
    `run ${runId} to settle`,
    30_000,
  )
}

type Sums = { requests: number; prompt: number; completion: number }

/**
 * What the database holds: the usage rows (billed), the run steps that carry a turn's usage
 * (saved turns: each turn's usage is on exactly one of its steps) and the runs' usage.
 */
async function atRest(db: CrashDb): Promise<{ billed: Sums; saved: Sums; runs: Sums }> {
  const [row] = await db.rows(
    'select count(*) as n, sum(input_tokens) as input_tokens, sum(output_tokens) as output_tokens from usage_records',
  )
  const billed = { requests: Number(row.n), prompt: Number(row.input_tokens ?? 0), completion: Number(row.output_tokens ?? 0) }
  const saved = { requests: 0, prompt: 0, completion: 0 }
  for (const step of await db.rows('select usage from run_steps where usage is not null')) {
    const usage = JSON.parse(String(step.usage))
    saved.requests++
    saved.prompt += usage.prompt_tokens
    saved.completion += usage.completion_tokens
  }
  const runs = { requests: saved.requests, prompt: 0, completion: 0 }
  for (const run of await db.rows('select usage from runs where usage is not null')) {
    const usage = JSON.parse(String(run.usage))
    runs.prompt += usage.prompt_tokens
    runs.completion += usage.completion_tokens
  }
  return { billed, saved, runs }
}


function shuffle<T>(items: T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}
