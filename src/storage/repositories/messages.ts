import type { Kysely, Selectable, Updateable } from 'kysely'
import type { MessagesTable } from '../tables-assistants.js'
import type { Database } from '../tables.js'
import { keysetPage, type Keyset, type KeysetPage } from './keyset.js'

export type MessageRow = Selectable<MessagesTable>
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

  /** The whole thread, oldest first: the conversation a run reads. */
  all(projectId: string, threadId: string): Promise<MessageRow[]> {
    return this.db
      .selectFrom('messages')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('thread_id', '=', threadId)
      .orderBy('id', 'asc')
      .execute()
  }

  async update(projectId: string, threadId: string, id: string, patch: MessagePatch) {
    const result = await this.db
      .updateTable('messages')
      .set(patch)
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
