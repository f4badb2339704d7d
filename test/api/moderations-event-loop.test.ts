import { afterAll, beforeAll, expect, it } from 'vitest'
import { EventLoopMonitor } from '../helpers/event-loop-monitor.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

/**
 * lexicon-moderation never holds the event loop over 50 ms, on a large input or on inputs that
 * once made its patterns backtrack. Runs alone (vitest.config.ts): parallel test files on 2 cores
 * delay the monitor's ticks. A real server, the path production serves.
 */
let t: TestApp
beforeAll(async () => {
  t = await createTestApp({}, { transport: 'http' })
})
afterAll(async () => t?.close())

it('keeps the event loop free while it scans large and adversarial inputs', async () => {
  const big = 'This is a perfectly ordinary sentence about gardening and tea. '.repeat(60_000) // 3.8 MB
  // one long word, back-to-back profanity, leet characters: each once made a pattern backtrack
  const hostile = ['fuzz'.repeat(50_000), 'fuck'.repeat(50_000), 'fu-'.repeat(60_000), 'a1'.repeat(100_000), '!@$|'.repeat(50_000)]
  // the server loads the tokenizer at boot (main.ts, warmTokenizer); this app loads it on first use
  await t.client().moderations.create({ input: 'warm up' })
  const monitor = new EventLoopMonitor(50)
  monitor.start()
  monitor.phase('large')
  const result = await t.client().moderations.create({ input: big + 'I will kill you.' })
  monitor.phase('adversarial')
  const adversarial = await t.client().moderations.create({ input: hostile })
  monitor.phase('after')
  await new Promise((resolve) => setTimeout(resolve, 100))
  monitor.stop()
  expect(result.results[0].categories.violence).toBe(true)
  expect(adversarial.results).toHaveLength(hostile.length)
  // a request holding the loop spends the stall on the CPU; a stall the main thread spent off
  // it (the machine busy with other work) is not the request's
  expect(monitor.blocks().filter((stall) => stall.cpuMs > 50)).toEqual([])
})
