import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { DiskBlobStore } from '../../src/storage/blobs/disk.js'

// Which temporary blobs a sweep removes at once: those whose writer is known to be gone. Several
// nodes may share the blob volume, so anything else waits for the stale-write time.

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-blob-sweep-'))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))
const tmp = path.join(root, '.tmp')
const HOUR = 3600_000

/** A source that yields one chunk, then waits until released: a write in progress. */
function hanging() {
  let release = () => {}
  const done = new Promise<void>((resolve) => (release = resolve))
  async function* source() {
    yield Buffer.from('x')
    await done
  }
  return { source: source(), release }
}

function leftover(name: string, lastWriteMs = Date.now()) {
  const file = path.join(tmp, name)
  fs.writeFileSync(file, '')
  fs.utimesSync(file, lastWriteMs / 1000, lastWriteMs / 1000)
  return name
}

describe('DiskBlobStore.sweepTemp', () => {
  it('removes at once what a gone process of this host left; keeps the rest until stale', async () => {
    const store = await DiskBlobStore.open(root)
    // a write of this process, in progress: its name tells how writers are named here
    const live = hanging()
    const writing = store.writeTemp(live.source)
    for (let i = 0; i < 100 && !fs.readdirSync(tmp).length; i++) await new Promise((r) => setTimeout(r, 5))
    const [mine] = fs.readdirSync(tmp)
    const [host, pid36] = mine.split('-')
    expect(parseInt(pid36, 36)).toBe(process.pid)

    // a process that ran and exited: its pid is free now
    const exited = spawnSync(process.execPath, ['-e', '']).pid!
    const started = Date.now() - process.uptime() * 1000
    const gone = [
      leftover(`${host}-${exited.toString(36)}-mxabc123-0123456789abcdef`),
      // an earlier process with this very pid (a container's server is pid 1 on every start)
      leftover(`${host}-${pid36}-mxabc124-0123456789abcdef`, started - 5000),
    ]
    const kept = [
      mine,
      // another live process of this host (the test runner)
      leftover(`${host}-${process.ppid.toString(36)}-mxabc125-0123456789abcdef`),
      // another host's: it may still be writing
      leftover(`00000000-${exited.toString(36)}-mxabc126-0123456789abcdef`),
      // named the old way
      leftover('mxabc127-0123456789abcdef'),
    ]
    expect(await store.sweepTemp(HOUR)).toBe(gone.length)
    expect(fs.readdirSync(tmp).sort()).toEqual([...kept].sort())

    // once idle for the stale-write time, anyone's goes
    for (const name of kept.slice(1)) leftover(name, Date.now() - 2 * HOUR)
    expect(await store.sweepTemp(HOUR)).toBe(kept.length - 1)
    expect(fs.readdirSync(tmp)).toEqual([mine])

    live.release()
    const temp = await writing
    await store.discard(temp)
    expect(fs.readdirSync(tmp)).toEqual([])
  })
})
