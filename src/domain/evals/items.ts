import { invalidRequest } from '../../errors.js'
import type { ProjectPrincipal } from '../../principal.js'
import type { RunDataSource } from '../../schemas/evals.js'
import type { FilesService } from '../files/service.js'

export type DataItem = { item: Record<string, unknown>; sample?: Record<string, unknown> }

/** The items of a run's source: given inline, or the lines of a JSONL file of the project. */
export async function loadItems(
  files: Pick<FilesService, 'content'>,
  principal: ProjectPrincipal,
  source: RunDataSource['source'],
): Promise<DataItem[]> {
  if (source.type === 'file_content') return source.content
  if (source.type !== 'file_id') throw new Error(`the ${source.type} source is refused when the run is created`)
  const chunks: Buffer[] = []
  for await (const chunk of await (await files.content(principal, source.id)).open()) chunks.push(Buffer.from(chunk))
  return parseJsonl(Buffer.concat(chunks).toString('utf8'), source.id)
}

/**
 * One item per non-empty line: `{"item": {...}, "sample": {...}}`, or the item itself when the
 * line has no `item` object.
 */
export function parseJsonl(text: string, fileId: string): DataItem[] {
  const items: DataItem[] = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim()
    if (!line) continue
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      throw invalidRequest(`Line ${i + 1} of file ${fileId} is not valid JSON.`, 'data_source.source.id', 'invalid_file')
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw invalidRequest(`Line ${i + 1} of file ${fileId} is not a JSON object.`, 'data_source.source.id', 'invalid_file')
    }
    const record = value as Record<string, unknown>
    const item = record.item
    if (item && typeof item === 'object' && !Array.isArray(item)) {
      const sample = record.sample && typeof record.sample === 'object' ? (record.sample as Record<string, unknown>) : undefined
      items.push({ item: item as Record<string, unknown>, ...(sample ? { sample } : {}) })
    } else items.push({ item: record })
  }
  return items
}
