import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { findExecutable, pipeProcess, ProcessFailed, runProcess } from './process-pipe.js'

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('pipeProcess', () => {
  it('feeds stdin and yields stdout', async () => {
    const out = await runProcess(findExecutable('cat')!, [], { input: Buffer.from('hello') })
    expect(out.toString()).toBe('hello')
  })

  it('throws ProcessFailed with stderr on a bad exit', async () => {
    const sh = findExecutable('sh')!
    await expect(runProcess(sh, ['-c', 'echo broken >&2; exit 3'])).rejects.toThrow(ProcessFailed)
    await expect(runProcess(sh, ['-c', 'echo broken >&2; exit 3'])).rejects.toThrow(/exited with 3: broken/)
  })

  it('kills the child when the consumer stops reading', async () => {
    const sh = findExecutable('sh')!
    const pipe = pipeProcess(sh, ['-c', 'echo $$; exec sleep 30'])
    const first = await pipe.next()
    const pid = Number(String(first.value).trim())
    expect(alive(pid)).toBe(true)
    await pipe.return(undefined)
    await expect.poll(() => alive(pid)).toBe(false)
  })

  it('kills the child when the signal aborts', async () => {
    const controller = new AbortController()
    const pipe = pipeProcess(findExecutable('sleep')!, ['30'], { signal: controller.signal })
    const reading = pipe.next()
    setTimeout(() => controller.abort(new Error('client went away')), 50)
    await expect(reading).rejects.toThrow('client went away')
    expect(execFileSync('sh', ['-c', 'pgrep -x sleep -P ' + process.pid + ' || true']).toString()).toBe('')
  })

  it('returns null for an executable this host lacks', () => {
    expect(findExecutable('plinth-no-such-engine')).toBeNull()
  })
})
