import type { Kysely } from 'kysely'
import { keyColumnType } from '../dialect.js'
import type { MigrationContext } from './index.js'

/**
 * The Conversations API (docs/responses.md, "Conversations"): a conversation and its items, each
 * item kept as the Responses API keeps a response's items (JSON of the item, its id beside it).
 * `next_position` numbers the items appended: taken by one UPDATE, so two responses finishing on
 * the same conversation never reuse a position, and a deleted item's position is never reused.
 */
export async function up(db: Kysely<any>, { dialect }: MigrationContext) {
  const key = keyColumnType(dialect)
  await db.schema
    .createTable('conversations')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('next_position', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
  await db.schema.createIndex('conversations_project').on('conversations').columns(['project_id', 'id']).execute()

  await db.schema
    .createTable('conversation_items')
    .addColumn('conversation_id', key, (c) => c.notNull().references('conversations.id').onDelete('cascade'))
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('id', key, (c) => c.notNull())
    .addColumn('item', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('conversation_items_pk', ['conversation_id', 'position'])
    .execute()
  // an item by its id: in its conversation (GET/DELETE .../items/{id}), in the project (item_reference)
  await db.schema.createIndex('conversation_items_item').on('conversation_items').columns(['conversation_id', 'id']).execute()
  await db.schema.createIndex('conversation_items_project_item').on('conversation_items').columns(['project_id', 'id']).execute()
}

export async function down(db: Kysely<any>) {
  await db.schema.dropTable('conversation_items').execute()
  await db.schema.dropTable('conversations').execute()
}
