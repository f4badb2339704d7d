import type { Kysely, Selectable } from 'kysely'
import type { Database } from '../tables.js'
import type { ProjectRateLimitsTable } from '../tables-usage.js'

export type ProjectRateLimitRow = Selectable<ProjectRateLimitsTable>
export type RateLimitValues = Omit<ProjectRateLimitRow, 'project_id' | 'model' | 'updated_at'>

export class RateLimitsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** A project's own limits, every model it has any for. */
  listForProject(projectId: string): Promise<ProjectRateLimitRow[]> {
    return this.db
      .selectFrom('project_rate_limits')
      .selectAll()
      .where('project_id', '=', projectId)
      .orderBy('model')
      .execute()
  }

  get(projectId: string, model: string): Promise<ProjectRateLimitRow | undefined> {
    return this.db
      .selectFrom('project_rate_limits')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('model', '=', model)
      .executeTakeFirst()
  }

  /** Sets the given columns of the project's limits for the model; the others keep their value. */
  async upsert(projectId: string, model: string, values: Partial<RateLimitValues>, now: number) {
    await this.db
      .insertInto('project_rate_limits')
      .values({
        project_id: projectId,
        model,
        max_requests_per_1_minute: null,
        max_tokens_per_1_minute: null,
        max_images_per_1_minute: null,
        max_audio_megabytes_per_1_minute: null,
        max_requests_per_1_day: null,
        batch_1_day_max_input_tokens: null,
        ...values,
        updated_at: now,
      })
      .onConflict((oc) => oc.columns(['project_id', 'model']).doUpdateSet({ ...values, updated_at: now }))
      .execute()
  }
}
