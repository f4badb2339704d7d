import type { Kysely, Migration, MigrationProvider } from 'kysely'
import type { Dialect } from '../dialect.js'
import * as m0001 from './0001-init.js'
import * as m0002 from './0002-files-uploads.js'
import * as m0003 from './0003-jobs.js'
import * as m0004 from './0004-batches.js'
import * as m0005 from './0005-organization.js'
import * as m0006 from './0006-usage-limits.js'
import * as m0007 from './0007-assistants.js'
import * as m0008 from './0008-runs.js'
import * as m0009 from './0009-usage-records-time-index.js'
import * as m0010 from './0010-run-step-tool-data.js'
import * as m0011 from './0011-vector-stores.js'
import * as m0012 from './0012-responses.js'
import * as m0013 from './0013-fine-tuning.js'
import * as m0014 from './0014-scale-indexes.js'
import * as m0015 from './0015-project-request-log-bodies.js'
import * as m0016 from './0016-usage-rollups-by-key.js'
import * as m0017 from './0017-message-token-counts.js'
import * as m0018 from './0018-thread-message-counters.js'
import * as m0019 from './0019-run-tool-resources.js'
import * as m0020 from './0020-batch-model-output-expiry.js'
import * as m0021 from './0021-certificates.js'
import * as m0022 from './0022-evals.js'
import * as m0023 from './0023-realtime-client-secrets.js'
import * as m0024 from './0024-conversations.js'
import * as m0025 from './0025-containers.js'
import * as m0026 from './0026-spend-limits.js'

/**
 * What a migration gets besides the database. The dialect is an escape hatch for the few column
 * types that must differ (see `keyColumnType`); a migration never branches on it itself.
 */
export type MigrationContext = { dialect: Dialect }

type PlinthMigration = {
  up(db: Kysely<any>, ctx: MigrationContext): Promise<void>
  down?(db: Kysely<any>, ctx: MigrationContext): Promise<void>
}

/** Numbered migrations, compiled in (no directory scan, so the build is self-contained). */
const migrations: Record<string, PlinthMigration> = {
  '0001-init': m0001,
  '0002-files-uploads': m0002,
  '0003-jobs': m0003,
  '0004-batches': m0004,
  '0005-organization': m0005,
  '0006-usage-limits': m0006,
  '0007-assistants': m0007,
  '0008-runs': m0008,
  '0009-usage-records-time-index': m0009,
  '0010-run-step-tool-data': m0010,
  '0011-vector-stores': m0011,
  '0012-responses': m0012,
  '0013-fine-tuning': m0013,
  '0014-scale-indexes': m0014,
  '0015-project-request-log-bodies': m0015,
  '0016-usage-rollups-by-key': m0016,
  '0017-message-token-counts': m0017,
  '0018-thread-message-counters': m0018,
  '0019-run-tool-resources': m0019,
  '0020-batch-model-output-expiry': m0020,
  '0021-certificates': m0021,
  '0022-evals': m0022,
  '0023-realtime-client-secrets': m0023,
  '0024-conversations': m0024,
  '0025-containers': m0025,
  '0026-spend-limits': m0026,
}

export function migrationProvider(ctx: MigrationContext): MigrationProvider {
  return {
    async getMigrations() {
      const bound: Record<string, Migration> = {}
      for (const [name, m] of Object.entries(migrations)) {
        bound[name] = {
          up: (db) => m.up(db, ctx),
          ...(m.down ? { down: (db: Kysely<any>) => m.down!(db, ctx) } : {}),
        }
      }
      return bound
    },
  }
}
