import type { Kysely, Selectable } from 'kysely'
import type { ChatCompletionsTable, Database } from '../tables.js'

export type ChatCompletionRow = Selectable<ChatCompletionsTable>

export type KeysetQuery = { after?: string; limit: number; order: 'asc' | 'desc' }

export class ChatCompletionsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: ChatCompletionRow) {
    await this.db.insertInto('chat_completions').values(row).execute()
  }

  get(projectId: string, id: string): Promise<ChatCompletionRow | undefined> {
    return this.db
      .selectFrom('chat_completions')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst()
  }

  /** Keyset page on the time-sortable id; returns limit+1 rows so the caller can tell has_more. */
  list(projectId: string, query: KeysetQuery & { model?: string }): Promise<ChatCompletionRow[]> {
    let q = this.db.selectFrom('chat_completions').selectAll().where('project_id', '=', projectId)
    if (query.model) q = q.where('model', '=', query.model)
    if (query.after) q = q.where('id', query.order === 'asc' ? '>' : '<', query.after)
    return q.orderBy('id', query.order).limit(query.limit + 1).execute()
  }

  async updateMetadata(projectId: string, id: string, metadata: string, response: string) {
    await this.db
      .updateTable('chat_completions')
      .set({ metadata, response })
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .execute()
  }

  async delete(projectId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('chat_completions')
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }
}
