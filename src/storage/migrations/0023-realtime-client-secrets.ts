import type { Kysely } from 'kysely'
import type { MigrationContext } from './index.js'

/**
 * The Realtime sessions' ephemeral client secrets (`ek_...`), by their SHA-256 only: in the
 * database, so a socket opened on any node or worker finds the key another one made. The key's
 * principal is not copied: the API key that made it (`key_id`) is looked up when the socket
 * opens, so revoking that key, or archiving its project, stops its ephemeral keys at once.
 */
export async function up(db: Kysely<any>, _ctx: MigrationContext) {
  await db.schema
    .createTable('realtime_client_secrets')
    .addColumn('secret_hash', 'text', (c) => c.primaryKey())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('session', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute()
  // expired secrets are swept by their expiry
  await db.schema.createIndex('realtime_client_secrets_expiry').on('realtime_client_secrets').columns(['expires_at']).execute()
}

export async function down(db: Kysely<any>) {
  await db.schema.dropTable('realtime_client_secrets').execute()
}
