import type { AppContext } from '../../context.js'
import type { Dash } from '../dash.js'
import { Page } from '../layout.js'
import { date, inProject, Table, type View } from '../view.js'
import { threadPage } from './thread.js'

/** The project the assistants view looks at: the query's, or the first active one. */
export async function chosenProject(ctx: AppContext, view: View): Promise<{ id: string; projects: any[] }> {
  const projects = ((await ctx.services.admin.projects.list(view.admin, { limit: 100 })).data as any[]).filter((p) => p.status === 'active')
  const id = projects.some((p) => p.id === view.query.project) ? view.query.project : (projects[0]?.id ?? '')
  return { id, projects }
}

/** Assistants of a project and its threads (all, or those one assistant ran on). */
export async function assistantsPage(ctx: AppContext, view: View) {
  const { id: projectId, projects } = await chosenProject(ctx, view)
  const principal = inProject(view.admin, projectId)
  const { assistants, threads } = ctx.services.assistants
  const list = projectId ? (await assistants.list(principal, { limit: 100, order: 'desc' }, 'v2')).data : []
  const assistantId = list.some((a) => a.id === view.query.assistant) ? view.query.assistant : undefined
  const recent = projectId ? await threads.recent(principal, { limit: 50, assistantId }) : []
  const q = (extra: Record<string, string>) => `/dashboard/assistants?${new URLSearchParams({ project: projectId, ...extra })}`
  return (
    <Page title="Assistants" path="/dashboard/assistants" view={view}>
      <h1>Assistants</h1>
      <form method="get" action="/dashboard/assistants" class="row panel">
        <label>
          Project
          <select name="project">
            {projects.map((p) => (
              <option value={p.id} selected={p.id === projectId}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Show</button>
      </form>
      <Table id="assistants">
        <tr>
          <th>Assistant</th>
          <th>Model</th>
          <th>Tools</th>
          <th>Created</th>
        </tr>
        {list.map((a) => (
          <tr class={a.id === assistantId ? 'on' : ''}>
            <td>
              <a href={q({ assistant: a.id })}>{a.name ?? a.id}</a>
              <br />
              <code>{a.id}</code>
            </td>
            <td>{a.model}</td>
            <td>{(a.tools ?? []).map((t: any) => t.function?.name ?? t.type).join(', ') || '—'}</td>
            <td>{date(a.created_at)}</td>
          </tr>
        ))}
      </Table>
      {list.length ? null : <p class="muted">No assistants in this project.</p>}
      <h2>
        Threads{assistantId ? ` run by ${assistantId}` : ''} {assistantId ? <a href={q({})}>(all)</a> : null}
      </h2>
      <Table id="threads">
        <tr>
          <th>Thread</th>
          <th>Created</th>
          <th>Metadata</th>
        </tr>
        {recent.map((t) => (
          <tr>
            <td>
              <a href={`/dashboard/assistants/threads/${t.id}?project=${projectId}`}>
                <code>{t.id}</code>
              </a>
            </td>
            <td>{date(t.created_at)}</td>
            <td>
              <code>{JSON.stringify(t.metadata ?? {})}</code>
            </td>
          </tr>
        ))}
      </Table>
      {recent.length ? null : <p class="muted">No threads.</p>}
    </Page>
  )
}

export function assistantsRoutes(dash: Dash, ctx: AppContext) {
  dash.get('/dashboard/assistants', (view) => assistantsPage(ctx, view))
  dash.get('/dashboard/assistants/threads/:id', (view, c) => threadPage(ctx, view, c.req.param('id')!))
}
