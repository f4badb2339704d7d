import type { AppContext } from '../../context.js'
import { InviteCreateParams, UserRoleUpdateParams } from '../../schemas/organization.js'
import { validate } from '../../schemas/validation.js'
import { field, type Dash } from '../dash.js'
import { Page } from '../layout.js'
import { date, Form, Table, type View } from '../view.js'

export async function usersPage(ctx: AppContext, view: View, created?: { email: string; token: string }) {
  const { users, invites } = ctx.services.admin
  const people = (await users.list(view.admin, { limit: 100 })).data as any[]
  const pending = (await invites.list(view.admin, { limit: 100 })).data as any[]
  const notice = created ? (
    <>
      <b>Invitation sent to {created.email}.</b> Give them this one-time token to accept it (
      <code>{'POST /v1/organization/invites/{invite_id}/accept'}</code>); it is shown only once:
      <br />
      <code id="invite-token">{created.token}</code>
    </>
  ) : undefined
  return (
    <Page title="Users" path="/dashboard/users" view={view} notice={notice}>
      <h1>Users</h1>
      <Table id="users">
        <tr>
          <th>User</th>
          <th>Role</th>
          <th>Added</th>
        </tr>
        {people.map((u) => (
          <tr data-user={u.id}>
            <td>
              {u.email}
              <br />
              <code>{u.id}</code>
            </td>
            <td>
              <Form view={view} action={`/dashboard/users/${u.id}/role`} class="row">
                <select name="role" aria-label={`Role of ${u.email}`}>
                  <option value="owner" selected={u.role === 'owner'}>
                    owner
                  </option>
                  <option value="reader" selected={u.role === 'reader'}>
                    reader
                  </option>
                </select>
                <button type="submit" class="small">
                  Change role
                </button>
              </Form>
            </td>
            <td>{date(u.added_at)}</td>
          </tr>
        ))}
      </Table>
      <h2>Invitations</h2>
      <Form view={view} action="/dashboard/invites" class="row panel" id="invite">
        <label>
          Email
          <input name="email" type="email" placeholder="someone@example.com" required />
        </label>
        <label>
          Role
          <select name="role">
            <option value="reader">reader</option>
            <option value="owner">owner</option>
          </select>
        </label>
        <button type="submit">Invite</button>
      </Form>
      <Table id="invites">
        <tr>
          <th>Email</th>
          <th>Role</th>
          <th>Status</th>
          <th>Expires</th>
          <th></th>
        </tr>
        {pending.map((i) => (
          <tr data-invite={i.id}>
            <td>
              {i.email}
              <br />
              <code>{i.id}</code>
            </td>
            <td>{i.role}</td>
            <td>{i.status}</td>
            <td>{date(i.expires_at)}</td>
            <td>
              {/* an accepted invite cannot be deleted (the API refuses it too) */}
              {i.status === 'accepted' ? null : (
                <Form view={view} action={`/dashboard/invites/${i.id}/delete`} class="inline">
                  <button type="submit" class="danger small">
                    Cancel invite
                  </button>
                </Form>
              )}
            </td>
          </tr>
        ))}
      </Table>
    </Page>
  )
}

export function usersRoutes(dash: Dash, ctx: AppContext) {
  const { users, invites } = ctx.services.admin
  dash.get('/dashboard/users', (view) => usersPage(ctx, view))
  dash.post('/dashboard/users/:id/role', async (view, form, c) => {
    const { role } = validate(UserRoleUpdateParams, { role: field(form, 'role') })
    const user = await users.update(view.admin, c.req.param('id')!, role)
    return { notice: `${user.email} is now ${user.role}.` }
  })
  dash.post('/dashboard/invites', async (view, form) => {
    const params = validate(InviteCreateParams, { email: field(form, 'email'), role: field(form, 'role') })
    const invite = await invites.create(view.admin, params)
    return { page: await usersPage(ctx, view, { email: invite.email, token: invite.accept_token }), status: 201 }
  })
  dash.post('/dashboard/invites/:id/delete', async (view, _form, c) => {
    const deleted = await invites.delete(view.admin, c.req.param('id')!)
    return { notice: `Invite ${deleted.id} cancelled; its token no longer works.` }
  })
}
