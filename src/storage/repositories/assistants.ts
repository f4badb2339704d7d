import type { Kysely, Selectable, Updateable } from 'kysely'
import type { AssistantsTable } from '../tables-assistants.js'
import type { Database } from '../tables.js'
import { keysetPage, type Keyset, type KeysetPage } from './keyset.js'

export type AssistantRow = Selectable<AssistantsTable>
export type AssistantPatch = Omit<Updateable<AssistantsTable>, 'id' | 'project_id' | 'created_at'>

/** Assistants of a project (v1 and v2 alike: the row holds the v2 form). */
export class AssistantsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: AssistantRow) {
    await this.db.insertInto('assistants').values(row).execute()
  }

  get(projectId: string, id: string): Promise<AssistantRow | undefined> {
    return this.db
      .selectFrom('assistants')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst()
  }

  /**
   * Locks the row until the transaction ends, for a read-modify-write (two assistant files added
   * at once must not both pass the 20-file check). A no-op update is the portable row lock:
   * PostgreSQL holds it to the end of the transaction, and SQLite's transactions begin IMMEDIATE,
   * one writer at a time, anyway. False if there is no such assistant.
   */
  async lock(projectId: string, id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('assistants')
      .set((eb) => ({ project_id: eb.ref('project_id') }))
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  list(projectId: string, page: Keyset): Promise<KeysetPage<AssistantRow>> {
    return keysetPage(
      this.db.selectFrom('assistants').selectAll().where('project_id', '=', projectId),
      page,
    )
  }

  async update(projectId: string, id: string, patch: AssistantPatch): Promise<boolean> {
    const result = await this.db
      .updateTable('assistants')
      .set(patch)
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  async delete(projectId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('assistants')
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }
}
