import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { configuredModels, PULL_RECORD_SUFFIX, scanModelsDir } from './discovery.js'

let dir: string | undefined
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
  dir = undefined
})

function tree(files: string[]) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-discovery-'))
  dir = root
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true })
    fs.writeFileSync(path.join(root, file), 'x')
  }
}

describe('scanModelsDir', () => {
  it('serves every *.gguf under the directory by its stem; skips downloads in progress, hidden files and later split parts', () => {
    tree([
      'a.gguf',
      'sub/b.GGUF',
      'c.gguf.part',
      '.hidden.gguf',
      'notes.txt',
      'big-00001-of-00002.gguf',
      'big-00002-of-00002.gguf',
    ])
    const found = scanModelsDir(dir!, [])
    expect(found.map((m) => [m.id, path.relative(dir!, m.path)])).toEqual([
      ['a', 'a.gguf'],
      ['big', 'big-00001-of-00002.gguf'],
      ['b', path.join('sub', 'b.GGUF')],
    ])
    expect(found.every((m) => m.ownedBy === 'local')).toBe(true)
  })

  it('says where a pulled file came from, and leaves configured ids and files to the config', () => {
    tree(['pulled.gguf', 'aliased.gguf', 'taken.gguf'])
    fs.writeFileSync(
      path.join(dir!, 'pulled.gguf' + PULL_RECORD_SUFFIX),
      JSON.stringify({ ownedBy: 'huggingface:someone' }),
    )
    const configured = configuredModels([
      { id: 'alias', provider: 'llama-cpp', options: { path: path.join(dir!, 'aliased.gguf') } },
      { id: 'taken', provider: 'llama-cpp', options: { path: '/elsewhere/x.gguf' } },
      { id: 'remote', provider: 'openai-compatible', upstream: 'u', options: {} },
    ])
    expect(configured.map((m) => m.id)).toEqual(['alias', 'taken'])
    expect(scanModelsDir(dir!, configured).map((m) => [m.id, m.ownedBy])).toEqual([
      ['pulled', 'huggingface:someone'],
    ])
  })

  it('finds nothing in a directory that does not exist yet', () => {
    expect(scanModelsDir(path.join(os.tmpdir(), 'plinth-no-such-dir'), [])).toEqual([])
  })
})

describe('configuredModels', () => {
  it('checks the options at boot', () => {
    expect(() =>
      configuredModels([
        { id: 'x', provider: 'llama-cpp', options: { path: 'x.gguf', threads: 0 } },
      ]),
    ).toThrow(/models\.0\.options\.threads/)
    expect(() => configuredModels([{ id: 'x', provider: 'llama-cpp', options: {} }])).toThrow(
      /needs options\.path/,
    )
  })
})
