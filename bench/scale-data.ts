// Data at scale and the reads that must stay fast as it grows (npm run bench:scale, and
// test/storage/query-plans.test.ts, which EXPLAINs the same reads).
import { CompiledQuery, sql, type KyselyPlugin, type RootOperationNode, type Kysely } from 'kysely'
import { PromptCache } from '../src/domain/assistants/prompt-cache.js'
import { buildPrompt } from '../src/domain/assistants/run-prompt.js'
import { threadPages } from '../src/domain/assistants/run-thread.js'
import { SUMMED } from '../src/domain/usage/results.js'
import { createRepos } from '../src/storage/repositories/index.js'
import type { Storage } from '../src/storage/storage.js'

export type ScaleSizes = { files: number; completions: number; messages: number; batches: number; usage: number }

export const PROJECT = 'proj_scale'
const ORG = 'org_scale'
const THREAD = 'thread_scale'
/** Usage records are spread over this many days, ending now. */
const USAGE_DAYS = 30
/** Threads besides the long one (empty): a database has many, and a one-row table plans as a scan. */
const OTHER_THREADS = 1000
/**
 * The key whose one busy hour is the same at every size: a record a minute per model (3), in the
 * last hour of yesterday (UTC): 180 rollup rows, as many as key_1 has in its last hour at the
 * default 1M records, whatever the table's size.
 */
export const BUSY_KEY = 'key_busy'
const BUSY_MODELS = 3
const busyHourEnd = (now: number) => Math.floor(now / 86400) * 86400

/** A zero-padded sequence number: ids sort as they were made, like real (time-sortable) ones. */
const id = (dialect: string, prefix: string) => (dialect === 'sqlite' ? `'${prefix}' || printf('%024d', n)` : `'${prefix}' || lpad(n::text, 24, '0')`)
export const idOf = (prefix: string, n: number) => prefix + String(n).padStart(24, '0')

/** Rows 1..count as `n`: a recursive CTE in SQLite, generate_series in PostgreSQL. */
function series(dialect: string, count: number, select: string): string {
  return dialect === 'sqlite'
    ? `WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${count}) ${select} FROM s`
    : `${select} FROM generate_series(1, ${count}) AS s(n)`
}

/**
 * Generates the data in bulk: one INSERT ... SELECT per table over a generated series, on the
 * database server (no rows cross the driver). Everything is in one project: the lists are per
 * project, so that is the worst case for them.
 */
export async function generate(storage: Storage, sizes: ScaleSizes, log: (line: string) => void = () => {}) {
  const d = storage.dialect
  const db = storage.db
  const now = Math.floor(Date.now() / 1000)
  const run = async (what: string, text: string) => {
    const t0 = performance.now()
    await sql.raw(text).execute(db)
    log(`  ${what}: ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  }
  await run(
    `${sizes.files} files`,
    `INSERT INTO files (id, project_id, bytes, created_at, expires_at, filename, purpose, status, state) ` +
      series(d, sizes.files, `SELECT ${id(d, 'file-')}, '${PROJECT}', 1000 + n % 5000, ${now} - ${sizes.files} + n, NULL, 'data.jsonl', CASE WHEN n % 10 = 0 THEN 'batch' ELSE 'assistants' END, 'processed', 'ready'`),
  )
  await run(
    `${sizes.completions} stored chat completions`,
    `INSERT INTO chat_completions (id, project_id, model, created_at, metadata, messages, response) ` +
      series(
        d,
        sizes.completions,
        `SELECT ${id(d, 'chatcmpl-')}, '${PROJECT}', CASE WHEN n % 100 = 0 THEN 'rare-model' ELSE 'gpt-4o-mini' END, ${now} - ${sizes.completions} + n, '{}', '[{"role":"user","content":"hello"}]', '{"id":"x","object":"chat.completion","choices":[]}'`,
      ),
  )
  await run('1 thread', `INSERT INTO threads (id, project_id, created_at, tool_resources, metadata) VALUES ('${THREAD}', '${PROJECT}', ${now}, '{}', '{}')`)
  await run(
    `${OTHER_THREADS} other threads`,
    `INSERT INTO threads (id, project_id, created_at, tool_resources, metadata) ` + series(d, OTHER_THREADS, `SELECT ${id(d, 'thread_')}, '${PROJECT}', ${now} - n, '{}', '{}'`),
  )
  await run(
    `${sizes.messages} messages in it`,
    `INSERT INTO messages (id, project_id, thread_id, created_at, role, content, attachments, metadata, status) ` +
      series(
        d,
        sizes.messages,
        `SELECT ${id(d, 'msg_')}, '${PROJECT}', '${THREAD}', ${now} - ${sizes.messages} + n, CASE WHEN n % 2 = 0 THEN 'assistant' ELSE 'user' END, '[{"type":"text","text":{"value":"message number ' || n || ' of a long conversation","annotations":[]}}]', '[]', '{}', 'completed'`,
      ),
  )
  await run(
    `${sizes.batches} batches`,
    `INSERT INTO batches (id, project_id, org_id, endpoint, input_file_id, completion_window, status, created_at, expires_at) ` +
      series(d, sizes.batches, `SELECT ${id(d, 'batch_')}, '${PROJECT}', '${ORG}', '/v1/chat/completions', 'file-x', '24h', 'completed', ${now} - ${sizes.batches} + n, ${now} + 86400`),
  )
  const span = USAGE_DAYS * 86400
  await run(
    `${sizes.usage} usage records`,
    `INSERT INTO usage_records (id, org_id, project_id, api_key_id, operation, model, input_tokens, output_tokens, cached_tokens, requests, batch, created_at) ` +
      series(
        d,
        sizes.usage,
        `SELECT ${id(d, 'usage_')}, '${ORG}', '${PROJECT}', 'key_' || (n % 4), 'completions', 'model-' || (n % 3), 20, 10, 0, 1, 0, ${now - span} + (CAST(n AS BIGINT) * ${span}) / ${sizes.usage}`,
      ),
  )
  const busy = 60 * BUSY_MODELS
  await run(
    `${busy} usage records of ${BUSY_KEY} in one hour`,
    `INSERT INTO usage_records (id, org_id, project_id, api_key_id, operation, model, input_tokens, output_tokens, cached_tokens, requests, batch, created_at) ` +
      series(
        d,
        busy,
        `SELECT ${id(d, 'usage_busy_')}, '${ORG}', '${PROJECT}', '${BUSY_KEY}', 'completions', 'model-' || (n % ${BUSY_MODELS}), 20, 10, 0, 1, 0, ${busyHourEnd(now) - 3600} + ((n - 1) / ${BUSY_MODELS}) * 60 + 30`,
      ),
  )
  for (const [width, seconds] of [['1m', 60], ['1h', 3600], ['1d', 86400]] as const) {
    await run(
      `${width} rollups`,
      `INSERT INTO usage_rollups (operation, bucket_width, bucket_start, project_id, api_key_id, model, batch, source, size, requests, input_tokens, output_tokens, cached_tokens, input_audio_tokens, output_audio_tokens, images, characters, seconds, usage_bytes, sessions) ` +
        `SELECT operation, '${width}', (created_at / ${seconds}) * ${seconds}, project_id, api_key_id, model, batch, '', '', sum(requests), sum(input_tokens), sum(output_tokens), sum(cached_tokens), 0, 0, 0, 0, 0, 0, 0 ` +
        `FROM usage_records GROUP BY operation, (created_at / ${seconds}) * ${seconds}, project_id, api_key_id, model, batch`,
    )
  }
  // the statistics a long-running database has (SQLite's planner and PostgreSQL's use them); on
  // PostgreSQL a VACUUM too, as autovacuum would have done, so that it does not run mid-measurement
  await run('analyze', d === 'sqlite' ? 'ANALYZE' : 'VACUUM ANALYZE')
}

export type Operation = {
  name: string
  run: (db: Kysely<any>) => Promise<unknown>
  /** the index its plan must use: a filter the general (project_id, id) index would only sift */
  index?: RegExp
}

/** The reads, as the API makes them (through the repositories), at any size of data. */
export function operations(sizes: ScaleSizes): Operation[] {
  const now = Math.floor(Date.now() / 1000)
  // what a node keeps between the turns of runs (the 8k and 128k rows share it, as turns would)
  const prompts = new PromptCache()
  let added = 0
  const middle = (n: number) => Math.max(1, Math.floor(n / 2))
  const page = { limit: 20, order: 'desc' as const }
  const day = 86400
  const today = Math.floor(now / day) * day
  return [
    { name: 'files: first page', run: (db) => createRepos(db).files.list(PROJECT, page, now) },
    { name: 'files: deep page (after)', run: (db) => createRepos(db).files.list(PROJECT, { ...page, after: idOf('file-', middle(sizes.files)) }, now) },
    { name: 'files: first page, purpose=batch', run: (db) => createRepos(db).files.list(PROJECT, { ...page, purpose: 'batch' }, now), index: /files_project_purpose/ },
    { name: 'files: by id', run: (db) => createRepos(db).files.get(PROJECT, idOf('file-', middle(sizes.files) + 1), now) },
    { name: 'chat completions: first page', run: (db) => createRepos(db).chatCompletions.list(PROJECT, page) },
    { name: 'chat completions: deep page (after)', run: (db) => createRepos(db).chatCompletions.list(PROJECT, { ...page, after: idOf('chatcmpl-', middle(sizes.completions)) }) },
    { name: 'chat completions: first page, model=rare', run: (db) => createRepos(db).chatCompletions.list(PROJECT, { ...page, model: 'rare-model' }), index: /chat_completions_project_model/ },
    { name: 'chat completions: by id', run: (db) => createRepos(db).chatCompletions.get(PROJECT, idOf('chatcmpl-', middle(sizes.completions) + 1)) },
    { name: 'batches: first page', run: (db) => createRepos(db).batches.list(PROJECT, { limit: 20 }) },
    { name: 'batches: deep page (after)', run: (db) => createRepos(db).batches.list(PROJECT, { limit: 20, after: idOf('batch_', middle(sizes.batches)) }) },
    { name: 'batches: by id', run: (db) => createRepos(db).batches.get(PROJECT, idOf('batch_', middle(sizes.batches) + 1)) },
    { name: 'thread messages: first page', run: (db) => createRepos(db).messages.list(PROJECT, THREAD, page) },
    { name: 'thread messages: deep page (after)', run: (db) => createRepos(db).messages.list(PROJECT, THREAD, { ...page, after: idOf('msg_', middle(sizes.messages)) }) },
    // a run's prompt as a turn builds it: the thread read backwards in pages until the context is
    // full, with stored token counts (the first build counts and stores them: the warm-up runs)
    { name: "thread messages of one run (a run's end)", run: (db) => createRepos(db).messages.ofRun(PROJECT, THREAD, 'run_x'), index: /messages_thread_run/ },
    { name: "thread messages with attachments (a run's tools)", run: (db) => createRepos(db).messages.withAttachments(PROJECT, THREAD), index: /messages_thread_attachments/ },
    { name: 'run prompt of the thread, 8k context (read + build)', run: (db) => runPrompt(db, 8_192, prompts) },
    { name: 'run prompt of the thread, 128k context (read + build)', run: (db) => runPrompt(db, 128_000, prompts) },
    { name: 'run prompt of the thread, 128k context, nothing cached (read + build)', run: (db) => runPrompt(db, 128_000) },
    {
      // a new turn after a user's message: the cached thread takes it (the thread grows by one a run)
      name: 'run prompt of the thread, 128k context, after a new message (insert + read + build)',
      run: async (db) => {
        added++
        await createRepos(db).messages.insert(userMessage(idOf('msg_', sizes.messages + added), now + added))
        return runPrompt(db, 128_000, prompts)
      },
    },
    {
      name: 'usage page: 7 days, 1d buckets',
      run: (db) => createRepos(db).usageRollups.query({ operations: ['completions'], width: '1d', from: today - 6 * day, to: today + day, groupBy: ['model'], sums: SUMMED.completions }),
    },
    {
      name: 'usage page: 24 hours, 1h buckets',
      run: (db) => createRepos(db).usageRollups.query({ operations: ['completions'], width: '1h', from: now - day, to: now, groupBy: [], sums: SUMMED.completions }),
    },
    {
      name: 'usage page: 1 hour, 1m buckets, one key',
      run: (db) => createRepos(db).usageRollups.query({ operations: ['completions'], width: '1m', from: now - 3600, to: now, apiKeyIds: ['key_1'], groupBy: [], sums: SUMMED.completions }),
      index: /usage_rollups_by_key/,
    },
    {
      name: 'usage page: 1 hour, 1m buckets, one key, 180 rows at both sizes',
      run: (db) =>
        createRepos(db).usageRollups.query({ operations: ['completions'], width: '1m', from: busyHourEnd(now) - 3600, to: busyHourEnd(now), apiKeyIds: [BUSY_KEY], groupBy: [], sums: SUMMED.completions }),
      index: /usage_rollups_by_key/,
    },
  ]
}

/**
 * A run's prompt of the thread (auto truncation, no max_prompt_tokens) in a model of `context`
 * tokens, through `cache` as the run engine reads it (none: every message read and converted).
 */
export function runPrompt(db: Kysely<any>, context: number, cache?: PromptCache) {
  return buildPrompt({
    instructions: 'You are helpful.',
    thread: threadPages(createRepos(db), PROJECT, THREAD, undefined, cache),
    steps: [],
    ownMessages: new Map(),
    truncation: { type: 'auto', last_messages: null },
    maxPromptTokens: null,
    contextTokens: context - 1,
    tools: [],
  })
}

/** A user's message of the long thread, as the API writes it. */
function userMessage(id: string, createdAt: number) {
  const content = JSON.stringify([{ type: 'text', text: { value: `message ${id} of a long conversation`, annotations: [] } }])
  return {
    id,
    project_id: PROJECT,
    thread_id: THREAD,
    created_at: createdAt,
    role: 'user' as const,
    content,
    attachments: '[]',
    metadata: '{}',
    status: 'completed' as const,
    incomplete_details: null,
    completed_at: null,
    incomplete_at: null,
    assistant_id: null,
    run_id: null,
    token_count: null,
  }
}

/** Runs `op` on a Kysely that records the statements it makes (for EXPLAIN). */
export async function capture(db: Kysely<any>, op: Operation): Promise<CompiledQuery[]> {
  const nodes: { node: RootOperationNode; queryId: any }[] = []
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      nodes.push({ node: args.node, queryId: args.queryId })
      return args.node
    },
    async transformResult(args) {
      return args.result
    },
  }
  await op.run(db.withPlugin(plugin))
  return nodes.map(({ node, queryId }) => db.getExecutor().compileQuery(node, queryId))
}

/** The plan of one statement, one line per step. */
export async function explain(storage: Storage, query: CompiledQuery): Promise<string[]> {
  if (storage.dialect === 'sqlite') {
    const { rows } = await storage.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`EXPLAIN QUERY PLAN ${query.sql}`, [...query.parameters]))
    return rows.map((r) => r.detail)
  }
  // on small tables PostgreSQL rightly prefers a sequential scan: with it priced out, the plan
  // shows whether an index can serve the query at all
  return storage.db.transaction().execute(async (tx) => {
    await sql`SET LOCAL enable_seqscan = off`.execute(tx)
    const { rows } = await tx.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`EXPLAIN ${query.sql}`, [...query.parameters]))
    return rows.map((r) => r['QUERY PLAN'])
  })
}

/** Plan lines that read a whole table (or a whole index, which is as slow). */
export function fullScans(dialect: string, plan: string[]): string[] {
  if (dialect === 'sqlite') {
    // a subquery's rows, made by the plan itself (MATERIALIZE / CO-ROUTINE): no table read
    const made = plan.flatMap((line) => /^(?:MATERIALIZE|CO-ROUTINE) (\S+)/.exec(line.trim())?.[1] ?? [])
    return plan.filter((line) => /^SCAN (?!CONSTANT)/.test(line.trim()) && !made.includes(line.trim().split(' ')[1]))
  }
  return plan.filter((line) => /Seq Scan/.test(line))
}
