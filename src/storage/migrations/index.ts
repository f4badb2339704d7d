import type { Migration, MigrationProvider } from 'kysely'
import * as m0001 from './0001-init.js'

/** Numbered migrations, compiled in (no directory scan, so the build is self-contained). */
const migrations: Record<string, Migration> = {
  '0001-init': m0001,
}

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations
  },
}
