import { StringDecoder } from 'node:string_decoder'
import { evalBadJsonlLine, evalFileTooLarge } from '../../errors.js'
import { Pacer } from '../../pacing.js'
import type { ProjectPrincipal } from '../../principal.js'
import type { RunDataSource } from '../../schemas/evals.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { Storage } from '../../storage/storage.js'
import type { FilesService } from '../files/service.js'

export type DataItem = {
  item: Record<string, unknown>
  sample?: Record<string, unknown>
  /** where a file's item is: its line, so that an item that does not match can name it */
  at?: { fileId: string; line: number }
}

/** A run's JSONL file is read whole: larger ones fail the run (`file_too_large`). */
export const MAX_FILE_BYTES = 64 * 1024 * 1024

export function fileTooLarge(id: string, bytes: number) {
  return evalFileTooLarge(id, bytes, MAX_FILE_BYTES)
}

/** A stored_completions source without a `limit` reads at most this many completions. */
export const STORED_COMPLETIONS_MAX = 10_000
const PAGE = 500

/**
 * The items of a run's source: given inline, the lines of a JSONL file of the project, or the
 * project's stored chat completions (`store: true`).
 */
export async function loadItems(
  deps: { files: Pick<FilesService, 'content'>; storage: Storage },
  principal: ProjectPrincipal,
  source: RunDataSource['source'],
): Promise<DataItem[]> {
  if (source.type === 'file_content') return source.content
  if (source.type === 'stored_completions') return storedCompletions(deps.storage, principal.projectId, source)
  if (source.type === 'responses') return storedResponses(deps.storage, principal.projectId, source)
  const content = await deps.files.content(principal, source.id)
  if (content.file.bytes > MAX_FILE_BYTES) throw fileTooLarge(source.id, content.file.bytes)
  const reader = new JsonlReader(source.id)
  for await (const chunk of await content.open()) await reader.push(chunk)
  return reader.end()
}

/** The items of a whole JSONL text (parseJsonl's lines, read as JsonlReader reads a file). */
export async function parseJsonl(text: string, fileId: string): Promise<DataItem[]> {
  const reader = new JsonlReader(fileId)
  await reader.push(text)
  return reader.end()
}

/**
 * One item per non-empty line: `{"item": {...}, "sample": {...}}`, or the item itself when the
 * line has no `item` object. The file is decoded and cut into lines chunk by chunk, and parsed
 * in slices of the event loop's turn (pacing.ts): a 64 MB file decoded or split whole would hold
 * the loop for longer than a request may.
 */
class JsonlReader {
  private readonly items: DataItem[] = []
  private readonly decoder = new StringDecoder('utf8')
  private readonly pacer = new Pacer()
  private pending = ''
  private line = 0

  constructor(private readonly fileId: string) {}

  async push(chunk: Uint8Array | string) {
    const text = this.pending + (typeof chunk === 'string' ? chunk : this.decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)))
    let at = 0
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', at)) {
      await this.pacer.pace()
      this.add(text.slice(at, end))
      at = end + 1
    }
    this.pending = text.slice(at)
  }

  end(): DataItem[] {
    const rest = this.pending + this.decoder.end()
    this.pending = ''
    if (rest) this.add(rest)
    return this.items
  }

  private at() {
    return { fileId: this.fileId, line: this.line }
  }

  private add(raw: string) {
    this.line++
    const line = raw.trim()
    if (!line) return
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      throw evalBadJsonlLine(this.fileId, this.line, 'not valid JSON')
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw evalBadJsonlLine(this.fileId, this.line, 'not a JSON object')
    }
    const record = value as Record<string, unknown>
    const item = record.item
    if (item && typeof item === 'object' && !Array.isArray(item)) {
      const sample = record.sample && typeof record.sample === 'object' ? (record.sample as Record<string, unknown>) : undefined
      this.items.push({ item: item as Record<string, unknown>, ...(sample ? { sample } : {}), at: this.at() })
    } else this.items.push({ item: record, at: this.at() })
  }
}

type StoredSource = Extract<RunDataSource['source'], { type: 'stored_completions' }>

/**
 * Stored completions as items, oldest first, filtered by model, metadata and creation time: the
 * request's messages are `item.input` (an `item_reference` of `item.input` samples them again),
 * the stored answer is the sample (`sample.output_text`, `sample.choices`...).
 */
async function storedCompletions(storage: Storage, projectId: string, source: StoredSource): Promise<DataItem[]> {
  const repo = createRepos(storage.db).chatCompletions
  const max = Math.min(source.limit ?? STORED_COMPLETIONS_MAX, STORED_COMPLETIONS_MAX)
  const wanted = Object.entries(source.metadata ?? {})
  const items: DataItem[] = []
  const pacer = new Pacer()
  let after: string | undefined
  while (items.length < max) {
    const rows = await repo.list(projectId, { after, limit: PAGE, order: 'asc', model: source.model ?? undefined })
    for (const row of rows.slice(0, PAGE)) {
      // a page is 500 stored conversations, each parsed here: in slices of the loop's turn
      await pacer.pace()
      if (source.created_after != null && row.created_at < source.created_after) continue
      if (source.created_before != null && row.created_at >= source.created_before) continue
      const metadata = JSON.parse(row.metadata) as Record<string, string>
      if (!wanted.every(([k, v]) => metadata[k] === v)) continue
      const completion = JSON.parse(row.response) as { model: string; choices: { message?: { content?: unknown } }[]; usage?: unknown }
      const content = completion.choices[0]?.message?.content
      items.push({
        item: { input: JSON.parse(row.messages), model: row.model, metadata },
        sample: { model: completion.model, choices: completion.choices, usage: completion.usage, output_text: typeof content === 'string' ? content : '' },
      })
      if (items.length === max) break
    }
    if (rows.length <= PAGE) break
    after = rows[PAGE - 1].id
  }
  return items
}

type ResponsesSource = Extract<RunDataSource['source'], { type: 'responses' }>
type StoredResponse = {
  instructions?: unknown
  metadata?: Record<string, string> | null
  temperature?: number | null
  top_p?: number | null
  user?: string | null
  reasoning?: { effort?: string | null } | null
  tools?: { type: string }[]
  output?: { type: string; content?: { type: string; text?: string }[] }[]
  model: string
  usage?: unknown
}

/**
 * The project's completed stored responses (`store: true`) as items, oldest first, filtered as
 * the source asks: the input messages are `item.input` (an `item_reference` of `item.input`
 * samples them again), the response is the sample (`sample.output_text`, `sample.output`...).
 */
async function storedResponses(storage: Storage, projectId: string, source: ResponsesSource): Promise<DataItem[]> {
  const repos = createRepos(storage.db)
  const wanted = Object.entries((source.metadata ?? {}) as Record<string, unknown>)
  const items: DataItem[] = []
  let after: string | undefined
  while (items.length < STORED_COMPLETIONS_MAX) {
    const rows = await repos.responses.page(projectId, { after, limit: PAGE, model: source.model ?? undefined, status: 'completed' })
    for (const row of rows) {
      if (source.created_after != null && row.created_at < source.created_after) continue
      if (source.created_before != null && row.created_at >= source.created_before) continue
      const body = JSON.parse(row.body) as StoredResponse
      if (!matches(body, source, wanted)) continue
      const inputs = await repos.responses.items(projectId, row.id, 'input')
      const input = inputs
        .map((r) => JSON.parse(r.item) as { type?: string; role?: string; content?: unknown })
        .filter((item) => item.type === 'message' && item.role)
        .map(({ role, content }) => ({ role, content }))
      const output = body.output ?? []
      if (source.has_tool_calls != null && output.some((o) => o.type.endsWith('_call')) !== source.has_tool_calls) continue
      const outputText = output
        .flatMap((o) => (o.type === 'message' ? (o.content ?? []) : []))
        .map((c) => (c.type === 'output_text' ? (c.text ?? '') : ''))
        .join('')
      items.push({
        item: { input, instructions: body.instructions ?? null, model: row.model, metadata: body.metadata ?? {} },
        sample: { model: body.model, output, output_text: outputText, usage: body.usage },
      })
      if (items.length === STORED_COMPLETIONS_MAX) break
    }
    if (rows.length < PAGE) break
    after = rows[rows.length - 1].id
  }
  return items
}

function matches(body: StoredResponse, source: ResponsesSource, metadata: [string, unknown][]): boolean {
  const own = body.metadata ?? {}
  if (!metadata.every(([k, v]) => own[k] === v)) return false
  if (source.instructions_search != null) {
    const instructions = typeof body.instructions === 'string' ? body.instructions : JSON.stringify(body.instructions ?? '')
    if (!instructions.toLowerCase().includes(source.instructions_search.toLowerCase())) return false
  }
  if (source.temperature != null && body.temperature !== source.temperature) return false
  if (source.top_p != null && body.top_p !== source.top_p) return false
  if (source.reasoning_effort != null && body.reasoning?.effort !== source.reasoning_effort) return false
  if (source.users?.length && !source.users.includes(body.user ?? '')) return false
  if (source.tools?.length && !source.tools.every((t) => body.tools?.some((tool) => tool.type === t))) return false
  return true
}
