import type { Kysely } from 'kysely'
import { keyColumnType } from '../dialect.js'
import type { MigrationContext } from './index.js'

/** Responses and their input and output items (docs/responses.md). */
export async function up(db: Kysely<any>, { dialect }: MigrationContext) {
  const key = keyColumnType(dialect)
  await db.schema
    .createTable('responses')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('previous_response_id', key)
    .addColumn('body', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('responses_project').on('responses').columns(['project_id', 'id']).execute()

  await db.schema
    .createTable('response_items')
    .addColumn('response_id', key, (c) => c.notNull().references('responses.id').onDelete('cascade'))
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('id', key, (c) => c.notNull())
    .addColumn('item', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('response_items_pk', ['response_id', 'kind', 'position'])
    .execute()
  // item_reference looks an item up by its id within the project
  await db.schema.createIndex('response_items_item').on('response_items').columns(['project_id', 'id']).execute()
}

export async function down(db: Kysely<any>) {
  await db.schema.dropTable('response_items').execute()
  await db.schema.dropTable('responses').execute()
}
