import type { AppContext } from '../../context.js'
import { ProjectUserCreateParams, ProjectUserUpdateParams } from '../../schemas/organization.js'
import { validate } from '../../schemas/validation.js'
import { field, type Dash } from '../dash.js'
import { date, Form, Table, type View } from '../view.js'

type Member = { id: string; name: string; email: string; role: 'owner' | 'member'; added_at: number }
type OrgUser = { id: string; email: string }

export type Members = { members: Member[]; others: OrgUser[] }

/** The project's members, and the organization's users who are not (the ones that can be added). */
export async function loadMembers(ctx: AppContext, view: View, projectId: string): Promise<Members> {
  const { projectUsers, users } = ctx.services.admin
  const members = (await projectUsers.list(view.admin, projectId, { limit: 100 })).data as Member[]
  const everyone = (await users.list(view.admin, { limit: 100 })).data as OrgUser[]
  const inProject = new Set(members.map((m) => m.id))
  return { members, others: everyone.filter((u) => !inProject.has(u.id)) }
}

function RoleOptions(props: { role?: string }) {
  return (
    <>
      <option value="member" selected={props.role === 'member'}>
        member
      </option>
      <option value="owner" selected={props.role === 'owner'}>
        owner
      </option>
    </>
  )
}

/** The members table (change a role, remove) and the form that adds an organization user. */
export function MembersSection(props: { view: View; projectId: string; data: Members }) {
  const { view, data } = props
  const base = `/dashboard/projects/${props.projectId}/members`
  return (
    <>
      <h2>Members</h2>
      <Table id="members">
        <tr>
          <th>User</th>
          <th>Role</th>
          <th>Added</th>
          <th></th>
        </tr>
        {data.members.map((m) => (
          <tr data-member={m.id}>
            <td>
              {m.email}
              <br />
              <code>{m.id}</code>
            </td>
            <td>
              <Form view={view} action={`${base}/${m.id}/role`} class="row">
                <select name="role" aria-label={`Project role of ${m.email}`}>
                  <RoleOptions role={m.role} />
                </select>
                <button type="submit" class="small">
                  Change role
                </button>
              </Form>
            </td>
            <td>{date(m.added_at)}</td>
            <td>
              <Form view={view} action={`${base}/${m.id}/remove`} class="inline">
                <button type="submit" class="danger small">
                  Remove
                </button>
              </Form>
            </td>
          </tr>
        ))}
      </Table>
      {data.others.length ? (
        <Form view={view} action={base} class="row panel" id="add-member">
          <label>
            User
            <select name="user_id">
              {data.others.map((u) => (
                <option value={u.id}>{u.email}</option>
              ))}
            </select>
          </label>
          <label>
            Role
            <select name="role">
              <RoleOptions role="member" />
            </select>
          </label>
          <button type="submit">Add to project</button>
        </Form>
      ) : (
        <p class="muted">Every user of the organization is a member. Invite more from the Users page.</p>
      )}
    </>
  )
}

/** Adding, re-roling and removing members: the project users API's service, checks and audit entries. */
export function memberActions(dash: Dash, ctx: AppContext) {
  const { projectUsers } = ctx.services.admin
  const base = '/dashboard/projects/:id/members'
  dash.post(base, async (view, form, c) => {
    const params = validate(ProjectUserCreateParams, { user_id: field(form, 'user_id'), role: field(form, 'role') })
    const member = await projectUsers.add(view.admin, c.req.param('id')!, params)
    return { notice: `${member.email} added to the project as ${member.role}.` }
  })
  dash.post(`${base}/:user/role`, async (view, form, c) => {
    const { role } = validate(ProjectUserUpdateParams, { role: field(form, 'role') })
    const member = await projectUsers.update(view.admin, c.req.param('id')!, c.req.param('user')!, role)
    return { notice: `${member.email} is now ${member.role} of the project.` }
  })
  dash.post(`${base}/:user/remove`, async (view, _form, c) => {
    const removed = await projectUsers.remove(view.admin, c.req.param('id')!, c.req.param('user')!)
    return { notice: `User ${removed.id} removed from the project; their keys in it are revoked.` }
  })
}
