import path from 'node:path'
import { lookup } from 'mime-types'

// What mime-db (through mime-types) lacks or answers otherwise for files code interpreter often
// writes; these answers predate the switch to mime-types and are kept
const OVERRIDES: Record<string, string> = {
  '.jsonl': 'application/jsonl',
  '.py': 'text/x-python',
  '.parquet': 'application/vnd.apache.parquet',
  '.yaml': 'application/x-yaml',
  '.yml': 'application/x-yaml',
}

/** The type of a file code interpreter wrote, by its extension; application/octet-stream if unknown. */
export function mimeTypeOf(name: string): string {
  const extension = path.extname(name).toLowerCase()
  return (extension && (OVERRIDES[extension] || lookup(extension))) || 'application/octet-stream'
}
