import type { AppContext } from '../../context.js'
import type { Dash } from '../dash.js'
import { Page } from '../layout.js'
import { date, Table, type View } from '../view.js'

/** What changed, in one line: the event's object id and the fields it names. */
function summary(e: any): string {
  const details = e[e.type] ?? {}
  const parts = [details.id, details.email, details.role].filter(Boolean)
  return parts.join(' · ')
}

export async function auditPage(ctx: AppContext, view: View) {
  const page = await ctx.services.admin.auditLogs.list(view.admin, { limit: 100 })
  return (
    <Page title="Audit log" path="/dashboard/audit" view={view}>
      <h1>Audit log</h1>
      <Table id="audit">
        <tr>
          <th>When</th>
          <th>Event</th>
          <th>Object</th>
          <th>Actor</th>
          <th>Project</th>
        </tr>
        {(page.data as any[]).map((e) => (
          <tr>
            <td>{date(e.effective_at)}</td>
            <td>
              <code>{e.type}</code>
            </td>
            <td>{summary(e)}</td>
            <td>{e.actor?.api_key?.id ?? e.actor?.session?.user?.email ?? e.actor?.type ?? '—'}</td>
            <td>{e.project?.id ?? '—'}</td>
          </tr>
        ))}
      </Table>
    </Page>
  )
}

export function auditRoutes(dash: Dash, ctx: AppContext) {
  dash.get('/dashboard/audit', (view) => auditPage(ctx, view))
}
