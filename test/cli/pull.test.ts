import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { download } from '../../src/providers/llama-cpp/pull/download.js'
import { DownloadError, pull, type PullOptions } from '../../src/providers/llama-cpp/pull/pull.js'
import { fileServer, type FileServer } from '../helpers/file-server.js'
import { requireStories } from '../helpers/llama.js'
import { createTestApp } from '../helpers/test-context.js'

// MODELS.md: the vendored file's sha256
const SHA256 = '270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d'
const root = path.resolve(import.meta.dirname, '../..')

let data: Buffer
let server: FileServer | undefined
let dir: string | undefined

beforeAll(() => {
  data = fs.readFileSync(requireStories())
})
afterEach(async () => {
  await server?.close()
  server = undefined
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
  dir = undefined
})

function setup() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-pull-'))
  dir = tmp
  const lines: string[] = []
  const out = Object.assign(
    new Writable({
      write: (chunk: Buffer, _: string, done: () => void) => (lines.push(chunk.toString()), done()),
    }),
    { isTTY: true },
  )
  const options: PullOptions = {
    modelsDir: path.join(tmp, 'models'),
    env: {},
    out,
    retryDelayMs: 10,
  }
  return { options, output: () => lines.join('') }
}

const files = () => fs.readdirSync(path.join(dir!, 'models')).sort()

describe('plinth pull', () => {
  it('downloads a GGUF into the models directory with a progress bar, checks its sha256 and records its source', async () => {
    server = await fileServer(data)
    const { options, output } = setup()
    const result = await pull(`${server.url}/files/stories260K.gguf`, {
      ...options,
      sha256: SHA256,
    })
    expect(result).toMatchObject({ id: 'stories260K', bytes: data.length, sha256: SHA256 })
    expect(files()).toEqual(['stories260K.gguf', 'stories260K.gguf.source.json'])
    expect(fs.readFileSync(result.file).equals(data)).toBe(true)
    // bytes, rate and time left, redrawn in place
    expect(output()).toMatch(/\r\[=+\] 100% 1\.1 MiB \/ 1\.1 MiB [\d.]+ \w+\/s ETA 0s/)
    expect(output()).toContain('served as model `stories260K`')
    const record = JSON.parse(fs.readFileSync(result.file + '.source.json', 'utf8'))
    expect(record).toMatchObject({
      source: `${server.url}/files/stories260K.gguf`,
      ownedBy: server.url.slice(7),
      sha256: SHA256,
    })
  })

  it('resumes after the connection drops mid-file', async () => {
    server = await fileServer(data, { dropFirst: 2, dropAfterBytes: 300_000 })
    const { options } = setup()
    const result = await pull(`${server.url}/stories260K.gguf`, { ...options, sha256: SHA256 })
    expect(result.sha256).toBe(SHA256)
    // each attempt resumes where the bytes on disk end: at most where the drop was (a few bytes
    // in flight may be lost with the connection), never past it
    const starts = server.ranges.map((range) => (range ? Number(/^bytes=(\d+)-$/.exec(range)![1]) : 0))
    expect(starts).toHaveLength(3)
    expect(starts[0]).toBe(0)
    expect(starts[1]).toBeGreaterThan(0)
    expect(starts[1]).toBeLessThanOrEqual(300_000)
    expect(starts[2]).toBeGreaterThan(starts[1])
    expect(starts[2]).toBeLessThanOrEqual(starts[1] + 300_000)
    expect(files()).toEqual(['stories260K.gguf', 'stories260K.gguf.source.json'])
  })

  it('resumes a download interrupted in an earlier run, from its .part file', async () => {
    server = await fileServer(data)
    const { options } = setup()
    fs.mkdirSync(options.modelsDir, { recursive: true })
    fs.writeFileSync(
      path.join(options.modelsDir, 'stories260K.gguf.part'),
      data.subarray(0, 500_000),
    )
    expect(
      (await pull(`${server.url}/stories260K.gguf`, { ...options, sha256: SHA256 })).sha256,
    ).toBe(SHA256)
    expect(server.ranges).toEqual(['bytes=500000-'])
  })

  it('rejects a wrong checksum and keeps no file, not even a partial one', async () => {
    server = await fileServer(data)
    const { options } = setup()
    const error = await pull(`${server.url}/stories260K.gguf`, {
      ...options,
      sha256: 'f'.repeat(64),
    }).catch((e) => e)
    expect(error).toBeInstanceOf(DownloadError)
    expect(error.message).toBe(
      `sha256 mismatch: expected ${'f'.repeat(64)}, got ${SHA256}; the download was deleted`,
    )
    expect(files()).toEqual([])
  })

  it('refuses what is not a GGUF file, and a missing one, without retrying', async () => {
    server = await fileServer(Buffer.from('<html>rate limited</html>'))
    const { options } = setup()
    await expect(pull(`${server.url}/model.gguf`, options)).rejects.toThrow(
      'the file is not a GGUF model',
    )
    await expect(pull(`${server.url}/missing.gguf`, options)).rejects.toThrow(/answered 404/)
    expect(server.ranges).toHaveLength(2)
    expect(files()).toEqual([])
  })

  it('stops a non-GGUF download within its first kilobytes, not after the whole file', async () => {
    server = await fileServer(Buffer.alloc(64 * 1024 * 1024, 'x'))
    const { options } = setup()
    fs.mkdirSync(options.modelsDir, { recursive: true })
    let received = 0
    const error = await download({
      url: `${server.url}/big.gguf`,
      dest: path.join(options.modelsDir, 'big.gguf'),
      onProgress: (p) => (received = p.received),
      checkHead: (head) => {
        if (head.subarray(0, 4).toString('latin1') !== 'GGUF') throw new Error('not a GGUF model')
      },
    }).catch((e) => e)
    expect(error).toBeInstanceOf(DownloadError)
    expect(error.message).toBe('not a GGUF model; the download was stopped and deleted')
    expect(received).toBeLessThan(1024 * 1024)
    expect(files()).toEqual([])
  })

  it('maps hf:<owner>/<repo>/<file> to Hugging Face, and the served model says where it came from', async () => {
    server = await fileServer(data)
    const { options } = setup()
    await pull('hf:someone/tiny-stories/stories260K.gguf', {
      ...options,
      env: { HF_ENDPOINT: server.url },
    })
    const t = await createTestApp({ llama: { modelsDir: options.modelsDir } })
    try {
      const model = await t.client().models.retrieve('stories260K')
      expect(model.owned_by).toBe('huggingface:someone')
    } finally {
      await t.close()
    }
  })

  it('runs as a CLI command, exiting 1 with a clear message on failure', async () => {
    server = await fileServer(data)
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-pull-'))
    dir = tmp
    // asynchronously: the file server answers from this process
    const run = (...args: string[]) =>
      new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [
          path.join(root, 'node_modules/tsx/dist/cli.mjs'),
          path.join(root, 'test/cli/run-cli.ts'),
          'pull',
          ...args,
          '--data-dir',
          tmp,
        ])
        let stderr = ''
        child.stderr.on('data', (d) => (stderr += d))
        child.on('exit', (status) => resolve({ status, stderr }))
      })
    const ok = await run(`${server.url}/stories260K.gguf`, '--sha256', SHA256, '--name', 'tiny')
    expect(ok.status).toBe(0)
    expect(ok.stderr).toContain('served as model `tiny`')
    expect(fs.existsSync(path.join(tmp, 'models', 'tiny.gguf'))).toBe(true)
    const bad = await run(
      `${server.url}/stories260K.gguf`,
      '--sha256',
      '0'.repeat(64),
      '--name',
      'other',
    )
    expect(bad.status).toBe(1)
    expect(bad.stderr).toContain('plinth: pull failed: sha256 mismatch')
  })
})
