import type { Kysely } from 'kysely'
import { keyColumnType } from '../dialect.js'
import type { MigrationContext } from './index.js'

/**
 * The Certificates API: an organization's uploaded client certificates (PEM, and the SHA-256
 * fingerprint a TLS proxy's forwarded certificate is matched by), active for the organization
 * (`active`) or for some of its projects (`project_certificates`).
 */
export async function up(db: Kysely<any>, { dialect }: MigrationContext) {
  const key = keyColumnType(dialect)
  await db.schema
    .createTable('certificates')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('org_id', key, (c) => c.notNull().references('organizations.id'))
    .addColumn('name', 'text')
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('valid_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
  await db.schema.createIndex('certificates_org').on('certificates').columns(['org_id', 'id']).execute()

  await db.schema
    .createTable('project_certificates')
    .addColumn('project_id', key, (c) => c.notNull().references('projects.id'))
    .addColumn('certificate_id', key, (c) => c.notNull().references('certificates.id'))
    .addColumn('activated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('project_certificates_pkey', ['project_id', 'certificate_id'])
    .execute()
  // deleting a certificate asks whether any project still has it active
  await db.schema
    .createIndex('project_certificates_certificate')
    .on('project_certificates')
    .columns(['certificate_id'])
    .execute()
}

export async function down(db: Kysely<any>) {
  await db.schema.dropTable('project_certificates').execute()
  await db.schema.dropTable('certificates').execute()
}
