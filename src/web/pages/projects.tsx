import type { AppContext } from '../../context.js'
import { ProjectCreateParams } from '../../schemas/organization.js'
import { field, type Dash } from '../dash.js'
import { Page } from '../layout.js'
import { validate } from '../../schemas/validation.js'
import { date, Form, Table, type View } from '../view.js'

export async function projectsPage(ctx: AppContext, view: View) {
  const { projects, projectKeys } = ctx.services.admin
  const list = (await projects.list(view.admin, { limit: 100, include_archived: true })).data as any[]
  const keyCounts = await Promise.all(list.map(async (p) => (await projectKeys.list(view.admin, p.id, { limit: 100 })).data.length))
  return (
    <Page title="Projects & keys" path="/dashboard/projects" view={view}>
      <h1>Projects & keys</h1>
      <Form view={view} action="/dashboard/projects" class="row panel" id="create-project">
        <label>
          New project
          <input name="name" placeholder="Project name" required maxlength={256} />
        </label>
        <button type="submit">Create project</button>
      </Form>
      <Table id="projects">
        <tr>
          <th>Project</th>
          <th>Status</th>
          <th>Keys</th>
          <th>Created</th>
          <th></th>
        </tr>
        {list.map((p, i) => (
          <tr data-project={p.id}>
            <td>
              <a href={`/dashboard/projects/${p.id}`}>{p.name}</a>
              <br />
              <code>{p.id}</code>
            </td>
            <td>{p.status}</td>
            <td>{keyCounts[i]}</td>
            <td>{date(p.created_at)}</td>
            <td>
              {p.status === 'active' ? (
                <Form view={view} action={`/dashboard/projects/${p.id}/archive`} class="inline">
                  <button type="submit" class="danger small" title="Archived projects' keys stop working at once">
                    Archive
                  </button>
                </Form>
              ) : null}
            </td>
          </tr>
        ))}
      </Table>
    </Page>
  )
}

export function projectsRoutes(dash: Dash, ctx: AppContext) {
  const { projects } = ctx.services.admin
  dash.get('/dashboard/projects', (view) => projectsPage(ctx, view))
  dash.post('/dashboard/projects', async (view, form) => {
    const { name } = validate(ProjectCreateParams, { name: field(form, 'name') })
    const project = await projects.create(view.admin, name)
    return { back: `/dashboard/projects/${project.id}`, notice: `Project ${project.name} created.` }
  })
  dash.post('/dashboard/projects/:id/archive', async (view, _form, c) => {
    const project = await projects.archive(view.admin, c.req.param('id')!)
    return { back: '/dashboard/projects', notice: `Project ${project.name} archived; its keys no longer work.` }
  })
}
