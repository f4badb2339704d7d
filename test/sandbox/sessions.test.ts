import { afterAll, beforeAll, expect, it } from 'vitest'
import { SandboxBusyError, SandboxPool, type SandboxSession } from '../../src/sandbox/index.js'
import { describeSandbox, sandboxConfig } from '../helpers/sandbox.js'

describeSandbox('code interpreter sandbox: a notebook session', () => {
  let pool: SandboxPool
  let session: SandboxSession

  beforeAll(async () => {
    pool = new SandboxPool(sandboxConfig())
    session = await pool.session('thread_notebook')
  }, 60_000)
  afterAll(() => pool.close())

  it("answers the seed's Math Tutor question: 2**100, printed or as the cell's value", async () => {
    const printed = await session.run('print(2**100)')
    expect(printed).toMatchObject({ outcome: 'ok', logs: '1267650600228229401496703205376\n', files: [] })
    const value = await session.run('2**100')
    expect(value.logs).toBe('1267650600228229401496703205376\n')
    expect(value.coldStart).toBe(false)
  })

  it('keeps variables and imports across calls, as a notebook does', async () => {
    await session.run('import math\ntotal = sum(range(10))')
    const second = await session.run('print(total, math.sqrt(total * 4))')
    expect(second).toMatchObject({ outcome: 'ok', logs: '45 13.416407864998739\n' })
  })

  it('returns an exception as its traceback in the logs, and keeps the state', async () => {
    await session.run('kept = "still here"')
    const failed = await session.run('def f():\n    return 1 / 0\nf()')
    expect(failed.outcome).toBe('error')
    expect(failed.logs).toContain('Traceback (most recent call last)')
    expect(failed.logs).toContain('return 1 / 0')
    expect(failed.logs).toContain('ZeroDivisionError: division by zero')
    // The kernel's own frames are not shown.
    expect(failed.logs).not.toContain('kernel')
    expect((await session.run('print(kept)')).logs).toBe('still here\n')
    const syntax = await session.run('def (')
    expect(syntax.outcome).toBe('error')
    expect(syntax.logs).toContain('SyntaxError')
  })

  it('keeps stdout and stderr in order in one log, and bounds it', async () => {
    const mixed = await session.run('import sys\nprint("one")\nprint("two", file=sys.stderr)\nprint("three")')
    expect(mixed.logs).toBe('one\ntwo\nthree\n')
    const flood = await session.run('print("x" * 1_000_000)')
    expect(flood.logs.length).toBeLessThan(17 * 1024)
    expect(flood.logs).toContain('[output truncated: ')
    // Output of a child process (not through sys.stdout) is captured too.
    const child = await session.run('import subprocess\nsubprocess.run(["/usr/bin/echo", "from a child"])')
    expect(child.logs).toContain('from a child\n')
  })

  it('turns a matplotlib chart into a PNG image output', async () => {
    const chart = await session.run(
      'import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [4, 1, 9])\nplt.title("chart")\nplt.show()',
    )
    expect(chart.outcome).toBe('ok')
    expect(chart.files).toHaveLength(1)
    const [image] = chart.files
    expect(image).toMatchObject({ kind: 'image', mimeType: 'image/png' })
    expect(image.path).toBe(`/mnt/data/${image.name}`)
    expect(image.bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    expect(image.bytes.length).toBeGreaterThan(5000)
    // A figure left open at the end of a cell is an image too; a saved PNG is a file.
    const open = await session.run(
      'fig, ax = plt.subplots()\nax.bar(["a", "b"], [3, 5])\nfig.savefig("/mnt/data/bars.png")',
    )
    const kinds = open.files.map((f) => [f.name, f.kind]).sort()
    expect(kinds).toEqual([['bars.png', 'file'], [expect.stringMatching(/^figure-\d+\.png$/), 'image']])
  })

  it('takes a CSV in and gives a CSV out; the file put in is not an output', async () => {
    await session.putFile('file-abc123', Buffer.from('city,temp\nOslo,3\nRome,18\nOslo,5\n'))
    const result = await session.run(
      [
        'import pandas as pd',
        'df = pd.read_csv("/mnt/data/file-abc123")',
        'df.groupby("city", as_index=False)["temp"].mean().to_csv("/mnt/data/means.csv", index=False)',
        'print(len(df))',
      ].join('\n'),
    )
    expect(result).toMatchObject({ outcome: 'ok', logs: '3\n' })
    expect(result.files.map((f) => [f.name, f.mimeType, f.kind, f.bytes.toString()])).toEqual([
      ['means.csv', 'text/csv', 'file', 'city,temp\nOslo,4.0\nRome,18.0\n'],
    ])
    // Placed again (before every call, say): not sent twice, so the code's changes stay.
    await session.run('open("/mnt/data/file-abc123", "a").write("Paris,9\\n")')
    await session.putFile('file-abc123', Buffer.from('city,temp\n'))
    expect((await session.run('print(len(pd.read_csv("/mnt/data/file-abc123")))')).logs).toBe('4\n')
    // Only changed files come back.
    expect((await session.run('print("nothing written")')).files).toEqual([])
    const nested = await session.run('import os\nos.makedirs("/mnt/data/out/deep", exist_ok=True)\nopen("/mnt/data/out/deep/r.json", "w").write("{}")')
    expect(nested.files.map((f) => [f.name, f.path, f.mimeType])).toEqual([
      ['out/deep/r.json', '/mnt/data/out/deep/r.json', 'application/json'],
    ])
  })

  it('refuses a file name that is not one path segment', async () => {
    for (const name of ['../x', 'a/b', '', '..', '.']) {
      await expect(session.putFile(name, Buffer.from('x'))).rejects.toThrow(/invalid file name/)
    }
  })

  it('caps how many files and how large a file one call returns, and says so', async () => {
    const many = await session.run('for i in range(25):\n    open(f"/mnt/data/n{i:02}.txt", "w").write(str(i))')
    expect(many.files).toHaveLength(20)
    expect(many.logs).toContain('was not returned: more than 20 files')
    const big = await session.run(
      'import os\nwith open("/mnt/data/big.bin", "wb") as f:\n    f.write(os.urandom(8 * 1024 * 1024))\nos.remove("/mnt/data/n00.txt")',
    )
    // Exactly the size cap is allowed (RLIMIT_FSIZE stops anything larger being written at all).
    expect(big.files.map((f) => [f.name, f.bytes.length])).toEqual([['big.bin', 8 * 1024 * 1024]])
    await session.run('import glob\nfor p in glob.glob("/mnt/data/*"):\n    os.remove(p)')
  })

  it('can be cancelled: the process is killed, and the next call starts fresh', async () => {
    const controller = new AbortController()
    const running = session.run('import time\ntime.sleep(30)', { signal: controller.signal })
    setTimeout(() => controller.abort(), 300)
    const cancelled = await running
    expect(cancelled.outcome).toBe('cancelled')
    expect(cancelled.logs).toContain('Execution was cancelled')
    const after = await session.run('print("kept" in globals())')
    expect(after).toMatchObject({ outcome: 'ok', logs: 'False\n', coldStart: true })
  })
})

describeSandbox('code interpreter sandbox: the session pool', () => {
  it('ends the least recently used idle session to make room, and refuses when all are busy', async () => {
    const pool = new SandboxPool(sandboxConfig({ maxSessions: 2 }))
    try {
      const a = await pool.session('a')
      const b = await pool.session('b')
      await a.run('x = "a"')
      await b.run('x = "b"')
      await a.run('print(x)')
      // b is now the least recently used: c takes its place.
      const c = await pool.session('c')
      expect(pool.size).toBe(2)
      expect((await c.run('print("c")')).logs).toBe('c\n')
      expect((await a.run('print(x)')).logs).toBe('a\n')
      const bAgain = await pool.session('b')
      const fresh = await bAgain.run('print("x" in globals())')
      expect(fresh).toMatchObject({ logs: 'False\n', coldStart: true })

      // Both sessions busy: no room for a third.
      const [first, second] = [await pool.session('b'), await pool.session('a')]
      const slow = [first.run('import time\ntime.sleep(1)'), second.run('import time\ntime.sleep(1)')]
      await expect(pool.session('d')).rejects.toBeInstanceOf(SandboxBusyError)
      await Promise.all(slow)
    } finally {
      await pool.close()
    }
  }, 60_000)

  it('ends a session after its idle time, with its state', async () => {
    const pool = new SandboxPool(sandboxConfig({ idleTimeoutMs: 300 }))
    try {
      const session = await pool.session('idle')
      await session.run('y = 1')
      expect(pool.size).toBe(1)
      await new Promise((resolve) => setTimeout(resolve, 800))
      expect(pool.size).toBe(0)
      const again = await pool.session('idle')
      expect(again).not.toBe(session)
      expect((await again.run('print("y" in globals())')).logs).toBe('False\n')
    } finally {
      await pool.close()
    }
  }, 60_000)

  it('runs calls of one session one at a time, in order', async () => {
    const pool = new SandboxPool(sandboxConfig())
    try {
      const session = await pool.session('order')
      const results = await Promise.all([
        session.run('import time\ntime.sleep(0.2)\nlog = ["first"]'),
        session.run('log.append("second")'),
        session.run('print(log)'),
      ])
      expect(results[2].logs).toBe("['first', 'second']\n")
    } finally {
      await pool.close()
    }
  }, 60_000)
})
