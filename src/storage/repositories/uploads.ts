import type { Kysely, Selectable } from 'kysely'
import type { Database, UploadPartsTable, UploadsTable } from '../tables.js'

export type UploadRow = Selectable<UploadsTable>
export type UploadPartRow = Selectable<UploadPartsTable>
export type UploadStatus = UploadRow['status']

/** Uploads of a project and their parts. Status changes are guarded by the expected status. */
export class UploadsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: UploadRow) {
    await this.db.insertInto('uploads').values(row).execute()
  }

  get(projectId: string, id: string): Promise<UploadRow | undefined> {
    return this.db
      .selectFrom('uploads')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst()
  }

  /**
   * Moves a pending upload on; false when it was no longer pending. Inside a transaction, the
   * update also locks the row, so a part added concurrently waits and then sees the new status.
   */
  async finish(
    projectId: string,
    id: string,
    to: Exclude<UploadStatus, 'pending'>,
    fileId: string | null = null,
  ) {
    const result = await this.db
      .updateTable('uploads')
      .set({ status: to, ...(fileId ? { file_id: fileId } : {}) })
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  /** Locks a pending upload for the rest of the transaction; false when it is not pending. */
  async lockPending(projectId: string, id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('uploads')
      .set({ status: 'pending' })
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  async insertPart(row: UploadPartRow) {
    await this.db.insertInto('upload_parts').values(row).execute()
  }

  parts(uploadId: string): Promise<UploadPartRow[]> {
    return this.db
      .selectFrom('upload_parts')
      .selectAll()
      .where('upload_id', '=', uploadId)
      .orderBy('id')
      .execute()
  }

  async partBytes(uploadId: string): Promise<number> {
    const row = await this.db
      .selectFrom('upload_parts')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('bytes'), eb.lit(0)).as('total'))
      .where('upload_id', '=', uploadId)
      .executeTakeFirst()
    return Number(row?.total ?? 0)
  }

  async deleteParts(uploadId: string) {
    await this.db.deleteFrom('upload_parts').where('upload_id', '=', uploadId).execute()
  }

  /** For the sweep, across projects: pending uploads past their expiry. */
  expiredPending(now: number, limit: number): Promise<UploadRow[]> {
    return this.db
      .selectFrom('uploads')
      .selectAll()
      .where('status', '=', 'pending')
      .where('expires_at', '<=', now)
      .orderBy('expires_at')
      .limit(limit)
      .execute()
  }

  /** For the sweep: finished uploads that still have parts (a crash hit between the two steps). */
  finishedWithParts(limit: number): Promise<UploadRow[]> {
    return this.db
      .selectFrom('uploads')
      .selectAll()
      .where('status', '!=', 'pending')
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('upload_parts')
            .select('upload_parts.id')
            .whereRef('upload_parts.upload_id', '=', 'uploads.id'),
        ),
      )
      .limit(limit)
      .execute()
  }
}
