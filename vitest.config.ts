import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts'] } },
      { extends: true, test: { name: 'e2e', include: ['test/**/*.test.ts'], testTimeout: 30_000 } },
    ],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    pool: 'forks',
    setupFiles: ['test/helpers/setup.ts'],
  },
})
