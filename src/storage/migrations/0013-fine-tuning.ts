import type { Kysely } from 'kysely'
import { keyColumnType } from '../dialect.js'
import type { MigrationContext } from './index.js'

/** Fine-tuning jobs, events, checkpoints and checkpoint permissions (docs/fine-tuning.md). */
export async function up(db: Kysely<any>, { dialect }: MigrationContext) {
  const key = keyColumnType(dialect)

  await db.schema
    .createTable('fine_tuning_jobs')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('org_id', key, (c) => c.notNull())
    .addColumn('api_key_id', key)
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('backend', 'text', (c) => c.notNull())
    .addColumn('training_file', key, (c) => c.notNull())
    .addColumn('validation_file', key)
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('suffix', 'text')
    .addColumn('seed', 'bigint', (c) => c.notNull())
    .addColumn('metadata', 'text')
    .addColumn('integrations', 'text')
    .addColumn('error', 'text')
    .addColumn('fine_tuned_model', key)
    .addColumn('result_files', 'text', (c) => c.notNull())
    .addColumn('trained_tokens', 'bigint')
    .addColumn('estimated_finish', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .addColumn('job_id', key)
    .addColumn('upstream_job_id', 'text')
    .addColumn('upstream_model', 'text')
    .addColumn('adapter_path', 'text')
    .addColumn('model_deleted_at', 'bigint')
    .execute()
  await db.schema
    .createIndex('fine_tuning_jobs_project')
    .on('fine_tuning_jobs')
    .columns(['project_id', 'id'])
    .execute()
  // serving at boot and DELETE /v1/models look jobs up by their model
  await db.schema
    .createIndex('fine_tuning_jobs_model')
    .on('fine_tuning_jobs')
    .columns(['fine_tuned_model'])
    .execute()

  await db.schema
    .createTable('fine_tuning_events')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('fine_tuning_job_id', key, (c) => c.notNull())
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('data', 'text')
    .execute()
  await db.schema
    .createIndex('fine_tuning_events_job')
    .on('fine_tuning_events')
    .columns(['fine_tuning_job_id', 'id'])
    .execute()

  await db.schema
    .createTable('fine_tuning_checkpoints')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('fine_tuning_job_id', key, (c) => c.notNull())
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('step_number', 'integer', (c) => c.notNull())
    .addColumn('metrics', 'text', (c) => c.notNull())
    .addColumn('fine_tuned_model_checkpoint', key, (c) => c.notNull().unique())
    .addColumn('adapter_path', 'text')
    .addColumn('upstream_model', 'text')
    .execute()
  await db.schema
    .createIndex('fine_tuning_checkpoints_job')
    .on('fine_tuning_checkpoints')
    .columns(['fine_tuning_job_id', 'id'])
    .execute()

  await db.schema
    .createTable('fine_tuning_permissions')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('org_id', key, (c) => c.notNull())
    .addColumn('fine_tuned_model_checkpoint', key, (c) => c.notNull())
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('fine_tuning_permissions_model_project', [
      'fine_tuned_model_checkpoint',
      'project_id',
    ])
    .execute()
}
