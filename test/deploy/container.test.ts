import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

// The Dockerfile, built and run with podman by deploy/test-container.sh (what it checks is listed
// at its top). A cold build takes 15-25 minutes on 2 cores (Debian packages, `npm ci` compiling
// better-sqlite3), so it runs only when asked: PLINTH_CONTAINER_TEST=1, as root, podman installed;
// PLINTH_STAND_IN_BASE=1 as well where no container registry is reachable (docs/deployment.md).

const root = path.resolve(import.meta.dirname, '../..')
const podman = ['/usr/bin/podman', '/usr/local/bin/podman'].some((p) => fs.existsSync(p))
const asked = process.env.PLINTH_CONTAINER_TEST === '1'
const why = !asked
  ? 'set PLINTH_CONTAINER_TEST=1 to build and run the image (15-25 min)'
  : !podman
    ? 'podman is not installed'
    : undefined

describe.skipIf(why !== undefined)('the container image (Dockerfile)', () => {
  if (why) console.warn(`container: skipped, ${why}`)

  it('builds, serves, passes its healthcheck, stops on SIGTERM and restarts on its volume', async (test) => {
    const child = spawn('deploy/test-container.sh', { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    // 77: podman is installed but cannot run a container on this machine
    if (code === 77) test.skip(`podman cannot run containers here:\n${output.slice(-2000)}`)
    expect(code, output.slice(-6000)).toBe(0)
    expect(output).toContain('container: all checks passed')
  }, 45 * 60_000)
})
