import type { Insertable, Kysely, Selectable } from 'kysely'
import type { Database } from '../tables.js'
import type { ConversationItemsTable, ConversationsTable } from '../tables-responses.js'

export type ConversationRow = Selectable<ConversationsTable>
export type ConversationItemRow = Selectable<ConversationItemsTable>
/** An item to append: its id and its JSON. */
export type NewConversationItem = { id: string; item: string }

/** Conversations and their items (migration 0024); every read is scoped to the project. */
export class ConversationsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: Omit<Insertable<ConversationsTable>, 'next_position'>, items: NewConversationItem[]) {
    await this.db.insertInto('conversations').values({ ...row, next_position: items.length }).execute()
    await this.insertItems(row.project_id, row.id, 0, items)
  }

  get(projectId: string, id: string): Promise<ConversationRow | undefined> {
    return this.db.selectFrom('conversations').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst()
  }

  async updateMetadata(projectId: string, id: string, metadata: string): Promise<boolean> {
    const result = await this.db.updateTable('conversations').set({ metadata }).where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  async delete(projectId: string, id: string): Promise<boolean> {
    await this.db.deleteFrom('conversation_items').where('project_id', '=', projectId).where('conversation_id', '=', id).execute()
    const result = await this.db.deleteFrom('conversations').where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }

  /**
   * Items appended after the last ones: their positions are taken by one UPDATE (two responses
   * ending on one conversation at once never share one). False when the conversation is gone.
   */
  async append(projectId: string, id: string, items: NewConversationItem[]): Promise<boolean> {
    const taken = await this.db
      .updateTable('conversations')
      .set((eb) => ({ next_position: eb('next_position', '+', items.length) }))
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .returning('next_position')
      .executeTakeFirst()
    if (!taken) return false
    await this.insertItems(projectId, id, Number(taken.next_position) - items.length, items)
    return true
  }

  private async insertItems(projectId: string, id: string, first: number, items: NewConversationItem[]) {
    const rows = items.map((item, i) => ({ conversation_id: id, project_id: projectId, position: first + i, id: item.id, item: item.item }))
    // bounded batches: SQLite takes at most 32766 bound values a statement
    for (let i = 0; i < rows.length; i += 500) await this.db.insertInto('conversation_items').values(rows.slice(i, i + 500)).execute()
  }

  /** Every item, oldest first (a response's history). */
  items(projectId: string, id: string): Promise<ConversationItemRow[]> {
    return this.db
      .selectFrom('conversation_items')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('conversation_id', '=', id)
      .orderBy('position', 'asc')
      .execute()
  }

  /** The item with this id in the conversation (the latest, should an id be there twice). */
  findItem(projectId: string, id: string, itemId: string): Promise<ConversationItemRow | undefined> {
    return this.db
      .selectFrom('conversation_items')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('conversation_id', '=', id)
      .where('id', '=', itemId)
      .orderBy('position', 'desc')
      .limit(1)
      .executeTakeFirst()
  }

  /** An item of any of the project's conversations, by id (item_reference). */
  findProjectItem(projectId: string, itemId: string): Promise<ConversationItemRow | undefined> {
    return this.db.selectFrom('conversation_items').selectAll().where('project_id', '=', projectId).where('id', '=', itemId).limit(1).executeTakeFirst()
  }

  async deleteItem(projectId: string, id: string, itemId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('conversation_items')
      .where('project_id', '=', projectId)
      .where('conversation_id', '=', id)
      .where('id', '=', itemId)
      .executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }

  /** One page of items; `undefined` when `after` names no item of the conversation. */
  async page(projectId: string, id: string, page: { after?: string; limit: number; order: 'asc' | 'desc' }) {
    const up = page.order === 'asc'
    let q = this.db.selectFrom('conversation_items').selectAll().where('project_id', '=', projectId).where('conversation_id', '=', id)
    if (page.after !== undefined) {
      const at = await this.findItem(projectId, id, page.after)
      if (!at) return undefined
      q = q.where('position', up ? '>' : '<', at.position)
    }
    const rows = await q
      .orderBy('position', up ? 'asc' : 'desc')
      .limit(page.limit + 1)
      .execute()
    return { rows: rows.slice(0, page.limit), hasMore: rows.length > page.limit }
  }
}
