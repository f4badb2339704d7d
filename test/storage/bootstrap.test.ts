import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/load.js'
import { bootstrapOrganization } from '../../src/domain/organization/bootstrap.js'
import { openStorage } from '../../src/storage/storage.js'
import { skippedPgCase, storageCases } from '../helpers/pg.js'

describe.each(storageCases())('bootstrap on $name', (storageCase) => {
  it('two nodes starting at once on an empty database create one organization', async () => {
    const created = storageCase.create('bootstrap')
    const { cleanup } = created
    // two SQLite connections in one process: better-sqlite3 waits for a lock synchronously, so
    // keep the wait short and let the async BEGIN retry do the waiting
    const config = created.config.kind === 'sqlite' ? { ...created.config, busyTimeoutMs: 20 } : created.config
    // two Storage instances = two nodes (two pools / two SQLite connections)
    const a = await openStorage(config)
    const b = await openStorage(config)
    try {
      const plinth = parseConfig({})
      const [ra, rb] = await Promise.all([bootstrapOrganization(a, plinth), bootstrapOrganization(b, plinth)])
      expect(ra.organization.id).toBe(rb.organization.id)
      expect([ra.created, rb.created].filter(Boolean)).toHaveLength(1)
      const orgs = await a.db.selectFrom('organizations').selectAll().execute()
      const keys = await a.db.selectFrom('api_keys').selectAll().execute()
      expect(orgs).toHaveLength(1)
      expect(keys).toHaveLength(2)
    } finally {
      await a.close()
      await b.close()
      await cleanup()
    }
  })
})
skippedPgCase('bootstrap')
