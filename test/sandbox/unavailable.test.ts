import { describe, expect, it } from 'vitest'
import { checkSandbox, SandboxPool, SandboxUnavailableError } from '../../src/sandbox/index.js'
import { sandboxConfig } from '../helpers/sandbox.js'

// Runs on every host: what is missing is reported with its fix, and nothing runs unsandboxed.
describe('code interpreter sandbox: a host that cannot sandbox', () => {
  it('names what is missing and the command that installs it', async () => {
    const config = sandboxConfig({ python: '/nonexistent/python3' })
    const report = await checkSandbox(config)
    expect(report.ok).toBe(false)
    expect(report.checks.find((c) => c.name === 'python3')).toMatchObject({
      ok: false,
      detail: '/nonexistent/python3 not found',
      fix: 'apt-get install -y python3',
    })
    expect(report.checks.find((c) => c.name === 'pandas')?.fix).toBe(
      'apt-get install -y --no-install-recommends python3-pandas',
    )
    const pool = new SandboxPool(config)
    const refused = pool.session('thread_x')
    await expect(refused).rejects.toBeInstanceOf(SandboxUnavailableError)
    await expect(refused).rejects.toThrow(/python3 \(\/nonexistent\/python3 not found\): apt-get install -y python3/)
    await expect(refused).rejects.toThrow(/plinth doctor/)
    expect(pool.size).toBe(0)
  })

  it('refuses when the code interpreter is turned off', async () => {
    const pool = new SandboxPool(sandboxConfig({ enabled: false }))
    await expect(pool.session('thread_x')).rejects.toThrow(
      'The code interpreter is disabled on this server (codeInterpreter.enabled is false).',
    )
  })
})
