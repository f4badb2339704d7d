import type { AppContext } from '../../context.js'
import type { Principal, ProjectPrincipal } from '../../principal.js'
import { Page } from '../layout.js'

function date(seconds: number | null | undefined) {
  return seconds ? new Date(seconds * 1000).toISOString().replace('T', ' ').slice(0, 16) : '—'
}

export async function projectsPage(ctx: AppContext, admin: Principal) {
  const { projects, projectKeys } = ctx.services.admin
  const list = await projects.list(admin, { limit: 100, include_archived: true })
  const rows = await Promise.all(
    list.data.map(async (p: any) => ({ project: p, keys: (await projectKeys.list(admin, p.id, { limit: 100 })).data as any[] })),
  )
  return (
    <Page title="Projects & keys" path="/dashboard/projects">
      <h1>Projects & keys</h1>
      {rows.map(({ project, keys }) => (
        <section>
          <h2 style="font-size:16px">
            {project.name} <code>{project.id}</code> <span class="muted">{project.status}</span>
          </h2>
          <table>
            <tr>
              <th>Key</th>
              <th>Name</th>
              <th>Value</th>
              <th>Owner</th>
              <th>Created</th>
              <th>Last used</th>
            </tr>
            {keys.map((k) => (
              <tr>
                <td>
                  <code>{k.id}</code>
                </td>
                <td>{k.name}</td>
                <td>
                  <code>{k.redacted_value}</code>
                </td>
                <td>{k.owner?.type ?? '—'}</td>
                <td>{date(k.created_at)}</td>
                <td>{date(k.last_used_at)}</td>
              </tr>
            ))}
          </table>
        </section>
      ))}
      <p class="muted">New keys: <code>npx plinth keys create --project &lt;id&gt;</code>, or the Administration API.</p>
    </Page>
  )
}

export async function batchesPage(ctx: AppContext, admin: Principal) {
  const projects = (await ctx.services.admin.projects.list(admin, { limit: 100, include_archived: true })).data as any[]
  const batches: any[] = []
  for (const p of projects) {
    const principal: ProjectPrincipal = { ...admin, projectId: p.id, kind: 'project' }
    const page = await ctx.services.batches.list(principal, { limit: 50 } as any)
    batches.push(...page.data.map((b) => ({ ...b, project: p.name })))
  }
  batches.sort((a, b) => b.created_at - a.created_at)
  return (
    <Page title="Batches" path="/dashboard/batches">
      <h1>Batches</h1>
      <table>
        <tr>
          <th>Batch</th>
          <th>Project</th>
          <th>Endpoint</th>
          <th>Status</th>
          <th>Progress</th>
          <th>Created</th>
        </tr>
        {batches.map((b) => {
          const counts = b.request_counts ?? { total: 0, completed: 0, failed: 0 }
          const done = counts.total ? ((counts.completed + counts.failed) / counts.total) * 100 : 0
          const failed = counts.total ? (counts.failed / counts.total) * 100 : 0
          return (
            <tr>
              <td>
                <code>{b.id}</code>
              </td>
              <td>{b.project}</td>
              <td>{b.endpoint}</td>
              <td>{b.status}</td>
              <td>
                <div class="bar" title={`${counts.completed} completed, ${counts.failed} failed of ${counts.total}`}>
                  <i style={`width:${done.toFixed(1)}%`} class={failed > 50 ? 'bad' : ''}></i>
                </div>
                <span class="muted">
                  {counts.completed + counts.failed}/{counts.total}
                </span>
              </td>
              <td>{date(b.created_at)}</td>
            </tr>
          )
        })}
      </table>
      {batches.length ? null : <p class="muted">No batches yet.</p>}
    </Page>
  )
}

export function modelsPage(ctx: AppContext) {
  const models = ctx.providers.list()
  return (
    <Page title="Models" path="/dashboard/models">
      <h1>Models</h1>
      <table>
        <tr>
          <th>Model</th>
          <th>Owned by</th>
          <th>Chat</th>
          <th>Completions</th>
          <th>Embeddings</th>
        </tr>
        {models.map((m) => (
          <tr>
            <td>
              <code>{m.id}</code>
            </td>
            <td>{m.ownedBy}</td>
            <td>{m.capabilities.chat ? 'yes' : '—'}</td>
            <td>{m.capabilities.completions ? 'yes' : '—'}</td>
            <td>{m.capabilities.embeddings ? 'yes' : '—'}</td>
          </tr>
        ))}
      </table>
    </Page>
  )
}

export async function auditPage(ctx: AppContext, admin: Principal) {
  const page = await ctx.services.admin.auditLogs.list(admin, { limit: 100 })
  return (
    <Page title="Audit log" path="/dashboard/audit">
      <h1>Audit log</h1>
      <table>
        <tr>
          <th>When</th>
          <th>Event</th>
          <th>Actor</th>
          <th>Project</th>
        </tr>
        {(page.data as any[]).map((e) => (
          <tr>
            <td>{date(e.effective_at)}</td>
            <td>
              <code>{e.type}</code>
            </td>
            <td>{e.actor?.api_key?.id ?? e.actor?.session?.user?.email ?? e.actor?.type ?? '—'}</td>
            <td>{e.project?.id ?? '—'}</td>
          </tr>
        ))}
      </table>
    </Page>
  )
}
