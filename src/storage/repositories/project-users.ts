import type { Kysely, Selectable } from 'kysely'
import type { Database, ProjectUsersTable } from '../tables.js'
import type { PageQuery } from './organizations.js'

export type ProjectUserRow = Selectable<ProjectUsersTable>
/** A membership with the user's name and email, as the wire object shows them. */
export type ProjectMemberRow = ProjectUserRow & { name: string; email: string }

export class ProjectUsersRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: ProjectUserRow) {
    await this.db.insertInto('project_users').values(row).execute()
  }

  get(projectId: string, userId: string): Promise<ProjectMemberRow | undefined> {
    return this.members(projectId).where('project_users.user_id', '=', userId).executeTakeFirst()
  }

  page(projectId: string, query: PageQuery): Promise<ProjectMemberRow[]> {
    let q = this.members(projectId)
    if (query.after) q = q.where('project_users.user_id', '>', query.after)
    return q
      .orderBy('project_users.user_id')
      .limit(query.limit + 1)
      .execute()
  }

  async setRole(projectId: string, userId: string, role: ProjectUserRow['role']) {
    await this.db
      .updateTable('project_users')
      .set({ role })
      .where('project_id', '=', projectId)
      .where('user_id', '=', userId)
      .execute()
  }

  async delete(projectId: string, userId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('project_users')
      .where('project_id', '=', projectId)
      .where('user_id', '=', userId)
      .executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }

  async deleteUser(userId: string) {
    await this.db.deleteFrom('project_users').where('user_id', '=', userId).execute()
  }

  private members(projectId: string) {
    return this.db
      .selectFrom('project_users')
      .innerJoin('users', 'users.id', 'project_users.user_id')
      .selectAll('project_users')
      .select(['users.name as name', 'users.email as email'])
      .where('project_users.project_id', '=', projectId)
  }
}
