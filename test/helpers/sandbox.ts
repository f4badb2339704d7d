import { describe } from 'vitest'
import { CodeInterpreterConfig } from '../../src/config/schema.js'
import { checkSandbox, describeMissing } from '../../src/sandbox/index.js'

/** Small limits, so that the hostile tests hit them fast; each test may override some. */
export function sandboxConfig(overrides: Partial<CodeInterpreterConfig> = {}): CodeInterpreterConfig {
  return CodeInterpreterConfig.parse({
    callTimeoutMs: 10_000,
    cpuSeconds: 20,
    memoryBytes: 1024 * 1024 * 1024,
    tmpBytes: 16 * 1024 * 1024,
    dataBytes: 32 * 1024 * 1024,
    maxFileBytes: 8 * 1024 * 1024,
    maxOutputBytes: 16 * 1024,
    maxProcesses: 32,
    ...overrides,
  })
}

const report = await checkSandbox(sandboxConfig())

/** Why sandbox suites did not run: what this host lacks, and the commands that install it. */
export const SANDBOX_SKIPPED = report.ok ? '' : `skipped: ${describeMissing(report)} (CI installs it)`

/**
 * A suite that needs bwrap and Debian's python3 with numpy/pandas/matplotlib: skipped, with the
 * reason in its title and on stderr, where the host cannot sandbox (`.ci/run` installs it all).
 */
export function describeSandbox(title: string, fn: () => void) {
  if (report.ok) return describe(title, fn)
  console.warn(`${title} (${SANDBOX_SKIPPED})`)
  describe.skip(`${title} (${SANDBOX_SKIPPED})`, fn)
}
