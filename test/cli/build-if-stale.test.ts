import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const script = path.resolve(import.meta.dirname, '../../scripts/build-if-stale.mjs')
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-build-'))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

// a package whose build counts its runs and writes the stamp, as Plinth's build does
fs.mkdirSync(path.join(root, 'src'))
fs.writeFileSync(path.join(root, 'src', 'a.ts'), 'export {}\n')
fs.writeFileSync(
  path.join(root, 'package.json'),
  JSON.stringify({
    name: 'stamp-test',
    scripts: {
      build: `node -e "const fs=require('fs');fs.mkdirSync('dist',{recursive:true});fs.appendFileSync('builds','x');fs.writeFileSync('dist/.build-stamp','')"`,
    },
  }),
)
const run = () => spawnSync(process.execPath, [script], { env: { ...process.env, PLINTH_BUILD_ROOT: root }, encoding: 'utf8' })
const builds = () => fs.readFileSync(path.join(root, 'builds'), 'utf8').length

describe('npm start builds only when a source changed', () => {
  it('builds when there is no build, then not again while the sources are unchanged', () => {
    expect(run().status).toBe(0)
    expect(builds()).toBe(1)
    expect(run().status).toBe(0)
    expect(builds()).toBe(1)
  })

  it('builds again after a source file changes, is added or is deleted', () => {
    const later = (file: string) => fs.utimesSync(file, new Date(Date.now() + 5000), new Date(Date.now() + 5000))
    later(path.join(root, 'src', 'a.ts'))
    run()
    expect(builds()).toBe(2)
    fs.writeFileSync(path.join(root, 'src', 'b.ts'), 'export {}\n')
    later(path.join(root, 'src', 'b.ts'))
    run()
    expect(builds()).toBe(3)
    fs.rmSync(path.join(root, 'src', 'b.ts'))
    later(path.join(root, 'src'))
    run()
    expect(builds()).toBe(4)
  })
})
