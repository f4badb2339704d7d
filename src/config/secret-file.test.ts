import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { readOrCreateSecret } from './secret-file.js'

const tsx = path.resolve(import.meta.dirname, '../../node_modules/tsx/dist/cli.mjs')
const module = path.resolve(import.meta.dirname, 'secret-file.ts')

describe('readOrCreateSecret', () => {
  it('makes one secret that every process starting at once reads whole', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-secret-'))
    const file = path.join(dir, 'sub', 'x.secret')
    const script = `import { readOrCreateSecret } from ${JSON.stringify(module)}; process.stdout.write(readOrCreateSecret(${JSON.stringify(file)}))`
    const outputs = await Promise.all(
      Array.from(
        { length: 6 },
        () =>
          new Promise<string>((resolve, reject) => {
            const child = spawn(process.execPath, [tsx, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
            let out = ''
            child.stdout.on('data', (d) => (out += d))
            child.on('error', reject)
            child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))))
          }),
      ),
    )
    expect(new Set(outputs).size).toBe(1)
    expect(outputs[0]).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(readOrCreateSecret(file)).toBe(outputs[0])
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    // no temporary file is left behind
    expect(fs.readdirSync(path.dirname(file))).toEqual(['x.secret'])
    fs.rmSync(dir, { recursive: true, force: true })
  })
})
