import type { Kysely } from 'kysely'
import { keyColumnType } from '../dialect.js'
import type { MigrationContext } from './index.js'

/**
 * Spend limits and alerts (docs/usage-and-limits.md, "Spend limits"). `scope` is the project id
 * for a project's, the organization id for the organization's. Amounts are cents, as the API
 * has them. An alert's `triggered_month` (`YYYY-MM`, UTC) is the month it last fired, so it fires
 * once a month even with several nodes: the node that moves it records the audit event.
 */
export async function up(db: Kysely<any>, { dialect }: MigrationContext) {
  const key = keyColumnType(dialect)
  await db.schema
    .createTable('spend_limits')
    .addColumn('scope', key, (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('threshold_amount', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema
    .createTable('spend_alerts')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('scope', key, (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('threshold_amount', 'bigint', (c) => c.notNull())
    .addColumn('recipients', 'text', (c) => c.notNull())
    .addColumn('subject_prefix', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('triggered_month', 'text')
    .execute()
  await db.schema.createIndex('spend_alerts_scope').on('spend_alerts').columns(['scope', 'id']).execute()
}

export async function down(db: Kysely<any>) {
  await db.schema.dropTable('spend_alerts').execute()
  await db.schema.dropTable('spend_limits').execute()
}
