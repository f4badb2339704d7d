import type { Kysely } from 'kysely'
import { keyColumnType } from '../dialect.js'
import type { MigrationContext } from './index.js'

/** Evals, their runs and the runs' output items (docs/evals.md). */
export async function up(db: Kysely<any>, { dialect }: MigrationContext) {
  const key = keyColumnType(dialect)

  await db.schema
    .createTable('evals')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('org_id', key, (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('data_source_config', 'text', (c) => c.notNull())
    .addColumn('testing_criteria', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('evals_project').on('evals').columns(['project_id', 'id']).execute()
  // GET /v1/evals?order_by=updated_at pages on (updated_at, id)
  await db.schema.createIndex('evals_project_updated').on('evals').columns(['project_id', 'updated_at', 'id']).execute()

  await db.schema
    .createTable('eval_runs')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('eval_id', key, (c) => c.notNull())
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('org_id', key, (c) => c.notNull())
    .addColumn('api_key_id', key)
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('model', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('data_source', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text')
    .addColumn('error', 'text')
    .addColumn('result_total', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('result_passed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('result_failed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('result_errored', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('per_model_usage', 'text')
    .addColumn('per_testing_criteria_results', 'text')
    .addColumn('job_id', key)
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('eval_runs_eval').on('eval_runs').columns(['eval_id', 'id']).execute()

  await db.schema
    .createTable('eval_run_output_items')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('run_id', key, (c) => c.notNull())
    .addColumn('eval_id', key, (c) => c.notNull())
    .addColumn('project_id', key, (c) => c.notNull())
    .addColumn('datasource_item_id', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('datasource_item', 'text', (c) => c.notNull())
    .addColumn('results', 'text', (c) => c.notNull())
    .addColumn('sample', 'text')
    /** JSON: the model calls behind the item, [{model, invocations, prompt, completion, cached}] */
    .addColumn('usage', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute()
  // one output item per data source item: a retried job skips the items already written
  await db.schema
    .createIndex('eval_run_output_items_item')
    .on('eval_run_output_items')
    .columns(['run_id', 'datasource_item_id'])
    .unique()
    .execute()
  await db.schema.createIndex('eval_run_output_items_run').on('eval_run_output_items').columns(['run_id', 'id']).execute()
}

export async function down(db: Kysely<any>) {
  await db.schema.dropTable('eval_run_output_items').execute()
  await db.schema.dropTable('eval_runs').execute()
  await db.schema.dropTable('evals').execute()
}
