import type { ProjectPrincipal } from '../../principal.js'
import type { Retrieval, SearchOptions, SearchResult } from '../retrieval/search.js'
import type { BuiltinCall, BuiltinTool, FunctionSpec, OutputItemFields, StepToolCall, ToolResult, ToolScope } from './tool.js'

/** The function every model calls file search as (test-scripted knows it by this name). */
export const FILE_SEARCH_FUNCTION = 'file_search'

/** OpenAI's default number of results for file_search (gpt-4* models). */
export const FILE_SEARCH_DEFAULT_RESULTS = 20

/** The run's `file_search` tool options (`tools[].file_search`). */
export type FileSearchOptions = {
  max_num_results?: number
  ranking_options?: { ranker?: string; score_threshold: number }
  /** the Responses tool's attribute filter */
  filters?: SearchOptions['filters'] | null
}

/**
 * The file_search tool (v1 `retrieval`; docs/assistants.md, "File search"): the model's query
 * runs as a hybrid search over the run's vector stores (the assistant's and the thread's); the
 * results go to the model as numbered sources, each headed by the `【n:m†file】` marker the answer
 * cites it with, and every marker the answer quotes becomes a `file_citation` annotation.
 */
export class FileSearchTool implements BuiltinTool {
  readonly type = 'file_search'
  readonly functionName = FILE_SEARCH_FUNCTION

  constructor(
    private readonly retrieval: Pick<Retrieval, 'search' | 'pendingFiles'>,
    /** how long a search waits for the stores' files still being ingested */
    private readonly waitMs = INGESTION_WAIT_MS,
  ) {}

  async describe(): Promise<FunctionSpec> {
    return { name: this.functionName, description: DESCRIPTION, parameters: PARAMETERS }
  }

  toStepDetails(call: BuiltinCall): StepToolCall {
    return { id: call.id, type: 'file_search', file_search: {} }
  }

  toStepDelta(call: BuiltinCall, previous: string | null): StepToolCall | undefined {
    // the query is not part of the step (OpenAI shows none): only the call's start is news
    return previous === null ? { id: call.id, type: 'file_search', file_search: {} } : undefined
  }

  async execute(call: BuiltinCall, scope: ToolScope, signal: AbortSignal): Promise<ToolResult> {
    const options = (scope.options?.file_search ?? {}) as FileSearchOptions
    const ranking = {
      ranker: options.ranking_options?.ranker === 'default_2024_08_21' ? 'default_2024_08_21' : 'auto',
      score_threshold: options.ranking_options?.score_threshold ?? 0,
    }
    const query = queryOf(call.arguments)
    const storeIds = scope.resources.file_search.vector_store_ids
    // as OpenAI does, the run waits for files still being ingested (a message's attachments
    // are, just after it was written); past the wait, it searches what is indexed
    if (query && storeIds.length) await this.waitForIngestion(storeIds, signal)
    const found =
      query && storeIds.length
        ? await this.retrieval.search(principalOf(scope), storeIds, query, {
            maxNumResults: options.max_num_results ?? FILE_SEARCH_DEFAULT_RESULTS,
            scoreThreshold: ranking.score_threshold,
            skipUnavailable: true,
            ...(options.filters ? { filters: options.filters } : {}),
            signal,
          })
        : undefined
    const results: SearchResult[] = found?.results ?? []
    signal.throwIfAborted()
    const turn = scope.turn ?? 0
    const markers = results.map((r, i) => `【${turn}:${i}†${r.filename}】`)
    const stepResults = results.map((r) => ({
      file_id: r.fileId,
      file_name: r.filename,
      score: round(r.score),
      content: [{ type: 'text', text: r.text }],
      ...(r.attributes ? { attributes: r.attributes } : {}),
    }))
    const fileSearch = { ranking_options: ranking, results: stepResults }
    return {
      stepCall: { id: call.id, type: 'file_search', file_search: fileSearch },
      // streamed with the content: a request without include[] trims it (streamView)
      resultDelta: { type: 'file_search', file_search: fileSearch },
      modelOutput: modelOutput(query, results, markers, storeIds.length),
      // the query's embedding, billed with the turn
      usage: found?.usage ?? [],
      answer: {
        images: [],
        annotations: results.map((r, i) => ({
          type: 'file_citation' as const,
          text: markers[i],
          file_id: r.fileId,
          quote: r.text.trim(),
        })),
      },
    }
  }

  toOutputItem(call: BuiltinCall, result: ToolResult | null, include: readonly string[]): OutputItemFields {
    const query = queryOf(call.arguments)
    const item: OutputItemFields = { type: 'file_search_call', status: result ? 'completed' : 'in_progress', queries: query ? [query] : [], results: null }
    if (!result || !include.includes('file_search_call.results')) return item
    const found = (result.stepCall.file_search as { results: StepResult[] }).results
    item.results = found.map((r) => ({ file_id: r.file_id, filename: r.file_name, score: r.score, text: r.content[0].text, attributes: r.attributes ?? {} }))
    return item
  }

  private async waitForIngestion(storeIds: string[], signal: AbortSignal) {
    const until = Date.now() + this.waitMs
    while ((await this.retrieval.pendingFiles(storeIds)) > 0 && Date.now() < until) {
      signal.throwIfAborted()
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(done, INGESTION_POLL_MS)
        function done() {
          signal.removeEventListener('abort', abort)
          resolve()
        }
        function abort() {
          clearTimeout(timer)
          reject(signal.reason)
        }
        signal.addEventListener('abort', abort, { once: true })
      })
    }
  }
}

type StepResult = { file_id: string; file_name: string; score: number; content: { text: string }[]; attributes?: unknown }

/** How long a search waits for files being ingested, and how often it looks. */
const INGESTION_WAIT_MS = 60_000
const INGESTION_POLL_MS = 100

const DESCRIPTION = [
  "Searches the files the user uploaded (the assistant's and this conversation's) for passages",
  'relevant to a query, and returns them as numbered sources. Use it when the answer may be in',
  'those files. Quote the marker of each source you use, as written (for example 【0:1†name.txt】),',
  'right after the statement it supports.',
].join('\n')

const PARAMETERS = {
  type: 'object',
  properties: {
    query: { type: 'string', description: 'What to search the files for.' },
  },
  required: ['query'],
  additionalProperties: false,
}

/** The query the model wrote; a model that wrote plain text instead of JSON searches for it. */
export function queryOf(args: string): string {
  try {
    const parsed = JSON.parse(args) as unknown
    if (parsed && typeof parsed === 'object' && typeof (parsed as { query?: unknown }).query === 'string') {
      return (parsed as { query: string }).query.trim()
    }
    if (typeof parsed === 'string') return parsed.trim()
    return ''
  } catch {
    return args.trim()
  }
}

/** The search only reads the project: the run's own key may have been revoked since. */
function principalOf(scope: ToolScope): ProjectPrincipal {
  return { orgId: '', projectId: scope.projectId, keyId: '', kind: 'project', permissions: { mode: 'all' } }
}

/** Scores as OpenAI shows them (and within the spec's 0-1 whatever float sums give). */
function round(score: number): number {
  return Math.min(1, Math.max(0, Math.round(score * 1e6) / 1e6))
}

/** What the model reads: each source headed by its marker, then its text. */
function modelOutput(query: string, results: SearchResult[], markers: string[], stores: number): string {
  if (!query) return 'The search needs a query: call file_search with {"query": "..."}.'
  if (!stores) return 'No files are attached to this assistant or conversation.'
  if (!results.length) return `No passage of the files matches "${query}".`
  return results.map((r, i) => `${markers[i]}\n${r.text.trim()}`).join('\n\n')
}

/** A file_search step call's results without their content (shown only on include[]). */
export function withoutContent<T extends { results?: { content?: unknown }[] }>(fileSearch: T): T {
  if (!fileSearch.results) return fileSearch
  return { ...fileSearch, results: fileSearch.results.map(({ content: _content, ...rest }) => rest) }
}
