import type { AppContext } from '../../context.js'
import type { Dash } from '../dash.js'
import { requestDetailPage } from './request-detail.js'
import { Page } from '../layout.js'
import { Table, type View } from '../view.js'

function time(ms: number) {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19)
}

/** The request log: this node's last API requests (request-log.ts), filtered; each links to its detail. */
export async function requestsPage(ctx: AppContext, view: View) {
  const { status = '', model = '', project = '' } = view.query
  const log = ctx.requestLog
  const entries = log.recent({ status: status || undefined, model: model || undefined, projectId: project || undefined }, 500)
  const projects = (await ctx.services.admin.projects.list(view.admin, { limit: 100, include_archived: true })).data as any[]
  return (
    <Page title="Requests" path="/dashboard/requests" view={view}>
      <h1>Recent requests</h1>
      <p class="muted">
        The last {log.size.toLocaleString('en-US')} API requests this node answered (<code>dashboard.requestLogSize</code>), kept in
        memory only: each node shows its own, and a restart empties it. Prompts and answers are kept (8 KB each) only
        for the projects that opted in on their page.
      </p>
      <form method="get" action="/dashboard/requests" class="row panel" id="filters">
        <label>
          Status
          <select name="status">
            {['', '2xx', '4xx', '5xx', '401', '404', '429'].map((s) => (
              <option value={s} selected={s === status}>
                {s || 'any'}
              </option>
            ))}
          </select>
        </label>
        <label>
          Model
          <select name="model">
            <option value="">any</option>
            {ctx.providers.list().map((m) => (
              <option value={m.id} selected={m.id === model}>
                {m.id}
              </option>
            ))}
          </select>
        </label>
        <label>
          Project
          <select name="project">
            <option value="">any</option>
            {projects.map((p) => (
              <option value={p.id} selected={p.id === project}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      <Table id="requests">
        <tr>
          <th>When (UTC)</th>
          <th>Request</th>
          <th>Status</th>
          <th>ms</th>
          <th>Model</th>
          <th>Tokens in/out</th>
          <th>Project / key</th>
        </tr>
        {entries.map((e) => (
          <tr data-status={e.status}>
            <td>{time(e.at)}</td>
            <td>
              {e.method} <code>{e.route}</code>
              <br />
              <a href={`/dashboard/requests/${e.seq}`} class="muted">
                {e.requestId ?? 'details'}
              </a>
              {e.prompt || e.answer ? <span class="muted"> · text kept</span> : null}
            </td>
            <td>{e.status}</td>
            <td>{e.ms}</td>
            <td>{e.model ?? '—'}</td>
            <td>{e.inputTokens === undefined ? '—' : `${e.inputTokens} / ${e.outputTokens}`}</td>
            <td>
              {e.projectId ?? '—'}
              {e.keyId ? (
                <>
                  <br />
                  <code>{e.keyId}</code>
                </>
              ) : null}
            </td>
          </tr>
        ))}
      </Table>
      {entries.length ? null : <p class="muted">No requests match.</p>}
    </Page>
  )
}

export function requestsRoutes(dash: Dash, ctx: AppContext) {
  dash.get('/dashboard/requests', (view) => requestsPage(ctx, view))
  dash.get('/dashboard/requests/:seq', (view, c) => requestDetailPage(ctx, view, c.req.param('seq')!))
}
