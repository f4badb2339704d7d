import { sql, type Kysely, type Selectable, type Updateable } from 'kysely'
import type { MessagesTable } from '../tables-assistants.js'
import type { Database } from '../tables.js'
import { keysetPage, type Keyset, type KeysetPage } from './keyset.js'

export type MessageRow = Selectable<MessagesTable>
/** What a run's prompt reads of a message. */
export type PromptMessageRow = Pick<MessageRow, 'id' | 'role' | 'content' | 'run_id' | 'token_count' | 'status'>
const PROMPT_COLUMNS = ['id', 'role', 'content', 'run_id', 'token_count', 'status'] as const
/** A thread's message counters (kept by triggers, migration 0018) and its newest messages. */
export type PromptHead = { added: number; changed: number; rows: PromptMessageRow[] }
/** What may change after a message is written: metadata (the API), the rest (the run engine). */
export type MessagePatch = Pick<
  Updateable<MessagesTable>,
  'content' | 'metadata' | 'status' | 'incomplete_details' | 'completed_at' | 'incomplete_at'
>

/** Messages of a thread. Every method takes the project and the thread: both scope the lookup. */
export class MessagesRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(...rows: MessageRow[]) {
    if (rows.length) await this.db.insertInto('messages').values(rows).execute()
  }

  get(projectId: string, threadId: string, id: string): Promise<MessageRow | undefined> {
    return this.db
      .selectFrom('messages')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('thread_id', '=', threadId)
      .where('id', '=', id)
      .executeTakeFirst()
  }

  list(
    projectId: string,
    threadId: string,
    page: Keyset & { runId?: string },
  ): Promise<KeysetPage<MessageRow>> {
    let q = this.db
      .selectFrom('messages')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('thread_id', '=', threadId)
    if (page.runId !== undefined) q = q.where('run_id', '=', page.runId)
    return keysetPage(q, page)
  }

  /** The whole thread, oldest first. */
  all(projectId: string, threadId: string): Promise<MessageRow[]> {
    return this.db
      .selectFrom('messages')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('thread_id', '=', threadId)
      .orderBy('id', 'asc')
      .execute()
  }

  /**
   * Up to `limit` messages of the thread older than `before` (null: the newest), newest first: a
   * run's prompt reads the thread backwards a page at a time (the messages_thread index).
   */
  newestBefore(projectId: string, threadId: string, before: string | null, limit: number): Promise<PromptMessageRow[]> {
    let q = this.db
      .selectFrom('messages')
      .select(PROMPT_COLUMNS)
      .where('project_id', '=', projectId)
      .where('thread_id', '=', threadId)
    if (before !== null) q = q.where('id', '<', before)
    return q.orderBy('id', 'desc').limit(limit).execute()
  }

  /**
   * The thread's message counters and up to `limit` of its messages newer than `after` (null:
   * the newest), newest first, in one statement: the counters and the rows are of one moment,
   * which is what a run's prompt cache checks its copy against (domain/assistants/prompt-cache.ts).
   * Undefined: no such thread.
   */
  async promptHead(
    projectId: string,
    threadId: string,
    after: string | null,
    limit: number,
  ): Promise<PromptHead | undefined> {
    // the page is taken in a subquery, in the index's order, whatever the planner thinks of the
    // join: a plan that joined first would read and sort the whole thread
    const rows = await this.db
      .selectFrom('threads as t')
      .leftJoin(
        (eb) => {
          let q = eb
            .selectFrom('messages')
            .select(PROMPT_COLUMNS)
            .where('project_id', '=', projectId)
            .where('thread_id', '=', threadId)
          if (after !== null) q = q.where('id', '>', after)
          return q.orderBy('id', 'desc').limit(limit).as('m')
        },
        (join) => join.onTrue(),
      )
      .select(['t.messages_added', 't.messages_changed'])
      .select(['m.id', 'm.role', 'm.content', 'm.run_id', 'm.token_count', 'm.status'])
      .where('t.project_id', '=', projectId)
      .where('t.id', '=', threadId)
      .orderBy('m.id', 'desc')
      .execute()
    if (!rows.length) return undefined
    const { messages_added: added, messages_changed: changed } = rows[0]
    return {
      added: Number(added),
      changed: Number(changed),
      rows: rows[0].id === null ? [] : (rows as PromptMessageRow[]),
    }
  }

  /** The messages a run wrote (the messages_thread_run index), oldest first. */
  ofRun(projectId: string, threadId: string, runId: string): Promise<MessageRow[]> {
    return this.db
      .selectFrom('messages')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('thread_id', '=', threadId)
      .where('run_id', '=', runId)
      .orderBy('id', 'asc')
      .execute()
  }

  /**
   * The attachments of the thread's messages that have any, oldest first. The literal '[]' (not
   * a parameter) lets the partial index messages_thread_attachments serve it.
   */
  withAttachments(projectId: string, threadId: string): Promise<Pick<MessageRow, 'id' | 'attachments'>[]> {
    return this.db
      .selectFrom('messages')
      .select(['id', 'attachments'])
      .where('project_id', '=', projectId)
      .where('thread_id', '=', threadId)
      .where(sql<boolean>`attachments <> '[]'`)
      .orderBy('id', 'asc')
      .execute()
  }

  /**
   * Stores token counts (message id → count) in one statement. The ids' range keeps the planner
   * on the thread's index (a long IN list alone had SQLite scan a small table).
   */
  async setTokenCounts(projectId: string, threadId: string, counts: ReadonlyMap<string, number>) {
    if (!counts.size) return
    const ids = [...counts.keys()].sort()
    const cases = sql.join(
      [...counts].map(([id, n]) => sql`when ${id} then cast(${n} as integer)`),
      sql` `,
    )
    await this.db
      .updateTable('messages')
      .set({ token_count: sql<number>`case id ${cases} end` })
      .where('project_id', '=', projectId)
      .where('thread_id', '=', threadId)
      .where('id', '>=', ids[0])
      .where('id', '<=', ids[ids.length - 1])
      .where('id', 'in', ids)
      .execute()
  }

  async update(projectId: string, threadId: string, id: string, patch: MessagePatch) {
    // new content is counted again when a prompt next needs it
    const set = patch.content === undefined ? patch : { ...patch, token_count: null }
    const result = await this.db
      .updateTable('messages')
      .set(set)
      .where('project_id', '=', projectId)
      .where('thread_id', '=', threadId)
      .where('id', '=', id)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  async delete(projectId: string, threadId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('messages')
      .where('project_id', '=', projectId)
      .where('thread_id', '=', threadId)
      .where('id', '=', id)
      .executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }

  async deleteThread(projectId: string, threadId: string): Promise<number> {
    const result = await this.db
      .deleteFrom('messages')
      .where('project_id', '=', projectId)
      .where('thread_id', '=', threadId)
      .executeTakeFirst()
    return Number(result.numDeletedRows)
  }
}
