import { defineConfig } from 'vitest/config'

// Tests that compare latencies run alone, after the others: on 2 cores, parallel test files
// are load enough to move a p99 by milliseconds (the guard compares p99s, so it would flake).
const ALONE = ['test/api/event-loop-guard.test.ts', 'test/api/moderations-event-loop.test.ts', 'test/api/realtime-event-loop.test.ts']

export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'e2e', include: ['test/**/*.test.ts'], exclude: ALONE, testTimeout: 30_000 },
      },
      {
        extends: true,
        test: {
          name: 'alone',
          include: ALONE,
          testTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    pool: 'forks',
    setupFiles: ['test/helpers/setup.ts'],
  },
})
