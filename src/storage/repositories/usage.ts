import type { CompiledQuery, Insertable, Kysely } from 'kysely'
import type { Database, UsageRecordsTable } from '../tables.js'
import { CompiledInserts } from './compiled-inserts.js'

export type UsageRecordInsert = Insertable<UsageRecordsTable>

// the columns of migration 0006 have defaults; rows that leave them out get them here, so that
// every row binds the same parameters (and the statement is the same)
const UNIT_DEFAULTS = {
  input_audio_tokens: 0,
  output_audio_tokens: 0,
  images: 0,
  characters: 0,
  seconds: 0,
  usage_bytes: 0,
  sessions: 0,
  source: null,
  size: null,
}

const INSERT = new CompiledInserts<UsageRecordInsert>(
  [
    'id',
    'org_id',
    'project_id',
    'api_key_id',
    'operation',
    'model',
    'input_tokens',
    'output_tokens',
    'cached_tokens',
    'requests',
    'batch',
    'created_at',
    ...(Object.keys(UNIT_DEFAULTS) as (keyof typeof UNIT_DEFAULTS)[]),
  ],
  (db, rows) => db.insertInto('usage_records').values(rows),
  UNIT_DEFAULTS,
)

export class UsageRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: UsageRecordInsert) {
    await this.db.insertInto('usage_records').values(row).execute()
  }

  /** Many rows in few statements, their SQL built once (see CompiledInserts), to run with the
   * rollups in one Storage.runBatch. */
  insertQueries(rows: readonly UsageRecordInsert[]): CompiledQuery[] {
    return INSERT.compile(this.db, rows)
  }

  listForProject(projectId: string, since = 0) {
    return this.db
      .selectFrom('usage_records')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('created_at', '>=', since)
      .orderBy('id')
      .execute()
  }
}
