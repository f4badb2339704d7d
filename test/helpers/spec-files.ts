import fs from 'node:fs'
import path from 'node:path'
import type { Method } from '../../src/http/routes.js'

/**
 * Where the official OpenAPI files live. They are data from `../shared/openapi/` beside the
 * repository and are never copied into it; `SPEC_DIR` overrides the location. A missing file is
 * an error, not a skip: a conformance suite that silently skips would always look green.
 */
export const REPO_ROOT = path.resolve(import.meta.dirname, '../..')

export const SPEC_FILES = {
  v2: 'openai-openapi.yaml',
  v1: 'openai-openapi-2024-04-15-assistants-v1.yaml',
  operations: 'operations.tsv',
  v1Operations: 'assistants-v1-paths.tsv',
} as const

/** The tag the six Assistants-v1-only operations are reported under. */
export const V1_TAG = 'Assistants (v1)'

export function specDir(): string {
  return process.env.SPEC_DIR
    ? path.resolve(process.env.SPEC_DIR)
    : path.resolve(REPO_ROOT, '../shared/openapi')
}

export function specFile(name: string): string {
  const file = path.join(specDir(), name)
  if (!fs.existsSync(file)) {
    throw new Error(
      `OpenAI spec file not found: ${file}. The conformance machinery reads it from ../shared/openapi/ ` +
        'beside the repository (set SPEC_DIR to point elsewhere); it must not be copied into the project.',
    )
  }
  return file
}

export type SpecOperation = { tag: string; method: Method; path: string; operationId: string }

/** The 148 operations of the current spec (operations.tsv), in file order. */
export function readOperations(): SpecOperation[] {
  return readTsv(SPEC_FILES.operations).map((row) => ({
    tag: row.tag,
    method: row.method as Method,
    path: row.path,
    operationId: row.operationId,
  }))
}

/** The six operations that only Assistants v1 had (assistant files, message files). */
export function readV1Operations(): SpecOperation[] {
  return readTsv(SPEC_FILES.v1Operations).map((row) => ({
    tag: V1_TAG,
    method: row.method as Method,
    path: row.path,
    operationId: row.operationId,
  }))
}

function readTsv(name: string): Record<string, string>[] {
  const [header, ...lines] = fs
    .readFileSync(specFile(name), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
  const columns = header.split('\t')
  return lines.map((line) => {
    const cells = line.split('\t')
    return Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? '']))
  })
}
