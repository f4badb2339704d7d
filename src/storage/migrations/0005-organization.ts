import type { Kysely } from 'kysely'
import { keyColumnType } from '../dialect.js'
import type { MigrationContext } from './index.js'

/**
 * The Administration API (issue 5): users, invites, project members, service accounts, audit
 * logs; the organization's owner user and each project's model permissions.
 */
export async function up(db: Kysely<any>, { dialect }: MigrationContext) {
  const key = keyColumnType(dialect)

  // made by bootstrap (lazily on databases created before this migration)
  await db.schema.alterTable('organizations').addColumn('owner_user_id', key).execute()
  await db.schema.alterTable('projects').addColumn('model_mode', 'text').execute()
  await db.schema.alterTable('projects').addColumn('model_ids', 'text').execute()

  await db.schema
    .createTable('users')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('org_id', key, (c) => c.notNull().references('organizations.id'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('added_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('users_org_email')
    .on('users')
    .columns(['org_id', 'email'])
    .unique()
    .execute()

  await db.schema
    .createTable('invites')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('org_id', key, (c) => c.notNull().references('organizations.id'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('projects', 'text', (c) => c.notNull())
    .addColumn('invited_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('accepted_at', 'bigint')
    .addColumn('user_id', key)
    .execute()
  await db.schema.createIndex('invites_org').on('invites').columns(['org_id', 'id']).execute()

  await db.schema
    .createTable('project_users')
    .addColumn('project_id', key, (c) => c.notNull().references('projects.id'))
    .addColumn('user_id', key, (c) => c.notNull().references('users.id'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('added_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('project_users_pkey', ['project_id', 'user_id'])
    .execute()
  await db.schema
    .createIndex('project_users_user')
    .on('project_users')
    .columns(['user_id'])
    .execute()

  await db.schema
    .createTable('service_accounts')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('project_id', key, (c) => c.notNull().references('projects.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('service_accounts_project')
    .on('service_accounts')
    .columns(['project_id', 'id'])
    .execute()

  // no foreign keys: an entry outlives the user, key or project it names
  await db.schema
    .createTable('audit_logs')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('org_id', key, (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('effective_at', 'bigint', (c) => c.notNull())
    .addColumn('project_id', key)
    .addColumn('project_name', 'text')
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_key_id', key)
    .addColumn('actor_owner_type', 'text')
    .addColumn('actor_owner_id', key)
    .addColumn('actor_email', 'text')
    .addColumn('actor_ip', 'text')
    .addColumn('resource_id', key)
    .addColumn('details', 'text', (c) => c.notNull())
    .execute()
  // listing is newest first by id (time-sortable); filters narrow by these
  await db.schema.createIndex('audit_logs_org').on('audit_logs').columns(['org_id', 'id']).execute()
  await db.schema
    .createIndex('audit_logs_effective')
    .on('audit_logs')
    .columns(['effective_at'])
    .execute()
  await db.schema
    .createIndex('audit_logs_resource')
    .on('audit_logs')
    .columns(['resource_id'])
    .execute()

  // a user's or service account's keys go with it
  await db.schema
    .createIndex('api_keys_owner')
    .on('api_keys')
    .columns(['owner_type', 'owner_id'])
    .execute()
}
