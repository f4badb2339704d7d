import type { Kysely } from 'kysely'
import { keyColumnType } from '../dialect.js'
import type { MigrationContext } from './index.js'

export async function up(db: Kysely<any>, { dialect }: MigrationContext) {
  const key = keyColumnType(dialect)

  await db.schema
    .createTable('files')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_details', 'text')
    .addColumn('mime_type', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('files_project').on('files').columns(['project_id', 'id']).execute()
  await db.schema.createIndex('files_expiry').on('files').columns(['expires_at']).execute()
  await db.schema.createIndex('files_state').on('files').columns(['state', 'created_at']).execute()

  await db.schema
    .createTable('uploads')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('mime_type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('file_expires_after', 'bigint')
    .addColumn('file_id', key)
    .execute()
  await db.schema
    .createIndex('uploads_project')
    .on('uploads')
    .columns(['project_id', 'id'])
    .execute()
  await db.schema
    .createIndex('uploads_status')
    .on('uploads')
    .columns(['status', 'expires_at'])
    .execute()

  await db.schema
    .createTable('upload_parts')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('upload_id', key, (c) => c.notNull().references('uploads.id'))
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('upload_parts_upload')
    .on('upload_parts')
    .columns(['upload_id', 'id'])
    .execute()
}
