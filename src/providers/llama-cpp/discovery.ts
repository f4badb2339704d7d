import fs from 'node:fs'
import path from 'node:path'
import type { LlamaModelOptions, ModelConfig } from '../../config/schema.js'
import { LlamaModelOptions as LlamaModelOptionsSchema } from '../../config/schema.js'

/** A GGUF file Plinth serves, from the models directory or from `models[]` in the config. */
export type LocalModel = {
  id: string
  /** Absolute path of the file (the first part of a split model). */
  path: string
  ownedBy: string
  created: number
  options: Omit<LlamaModelOptions, 'path'>
}

/** What `plinth pull` writes beside a downloaded file, so /v1/models can say where it came from. */
export type PullRecord = {
  source: string
  url: string
  sha256?: string
  ownedBy: string
  pulledAt: number
}

export const PULL_RECORD_SUFFIX = '.source.json'

// llama.cpp's split files: name-00001-of-00003.gguf; only the first part is loaded (it finds the rest)
const SPLIT_PART = /-(\d{5})-of-(\d{5})$/

/** Models named in the config with `provider: 'llama-cpp'`; their options are checked here, at boot. */
export function configuredModels(models: readonly ModelConfig[]): LocalModel[] {
  const out: LocalModel[] = []
  models.forEach((model, i) => {
    if (model.provider !== 'llama-cpp') return
    const parsed = LlamaModelOptionsSchema.safeParse(model.options)
    if (!parsed.success) {
      const issues = parsed.error.issues.map(
        (issue) => `models.${i}.options.${issue.path.join('.')}: ${issue.message}`,
      )
      throw new Error(`invalid configuration:\n  - ${issues.join('\n  - ')}`)
    }
    const { path: file, ...options } = parsed.data
    const where = file ?? model.upstreamModel
    if (!where)
      throw new Error(`model ${model.id}: a llama-cpp model needs options.path (its GGUF file)`)
    const absolute = path.resolve(where)
    out.push({
      id: model.id,
      path: absolute,
      ownedBy: model.ownedBy ?? 'local',
      created: mtimeSeconds(absolute),
      options,
    })
  })
  return out
}

/**
 * Every *.gguf under the models directory, served under its file stem. Hidden entries and
 * downloads in progress (*.part) are skipped; a configured model pointing at the same file keeps
 * only its alias, and an id taken twice keeps the first (configured ones come first).
 */
export function scanModelsDir(dir: string, configured: readonly LocalModel[]): LocalModel[] {
  const taken = new Set(configured.map((m) => m.id))
  const configuredPaths = new Set(configured.map((m) => m.path))
  const found: LocalModel[] = []
  for (const file of ggufFiles(dir).sort()) {
    const stem = path.basename(file).replace(/\.gguf$/i, '')
    const split = SPLIT_PART.exec(stem)
    if (split && split[1] !== '00001') continue
    const id = split ? stem.slice(0, split.index) : stem
    if (taken.has(id) || configuredPaths.has(file)) continue
    taken.add(id)
    found.push({
      id,
      path: file,
      ownedBy: readPullRecord(file)?.ownedBy ?? 'local',
      created: mtimeSeconds(file),
      options: {},
    })
  }
  return found
}

function ggufFiles(dir: string): string[] {
  let entries: fs.Dirent[]
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true })
  } catch {
    return [] // no models directory yet: nothing to serve
  }
  return entries.flatMap((entry) => {
    if (entry.name.startsWith('.')) return []
    const full = path.resolve(dir, entry.name)
    if (entry.isDirectory()) return ggufFiles(full)
    return (entry.isFile() || entry.isSymbolicLink()) && /\.gguf$/i.test(entry.name) ? [full] : []
  })
}

export function readPullRecord(file: string): PullRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(file + PULL_RECORD_SUFFIX, 'utf8')) as PullRecord
  } catch {
    return undefined
  }
}

function mtimeSeconds(file: string): number {
  try {
    return Math.floor(fs.statSync(file).mtimeMs / 1000)
  } catch {
    return Math.floor(Date.now() / 1000)
  }
}
