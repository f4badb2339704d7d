import type { AppContext } from '../../context.js'
import { jobFraction, recentJobs, type JobOverview } from '../../domain/jobs-overview.js'
import type { Dash } from '../dash.js'
import { Page } from '../layout.js'
import { Bar, date, inProject, Table, type View } from '../view.js'

/** A fine-tuning job's epochs, for its runner job's checkpoint progress (undefined: unknown yet). */
async function epochsOf(ctx: AppContext, view: View, job: JobOverview): Promise<number | undefined> {
  const { fineTuningJobId, projectId } = job.payload as { fineTuningJobId?: string; projectId?: string }
  if (!fineTuningJobId || !projectId) return undefined
  try {
    const ft: any = await ctx.services.fineTuning.service.get(inProject(view.admin, projectId), fineTuningJobId)
    const epochs = ft.method?.supervised?.hyperparameters?.n_epochs ?? ft.hyperparameters?.n_epochs
    return typeof epochs === 'number' ? epochs : undefined
  } catch {
    return undefined
  }
}

export async function batchesPage(ctx: AppContext, view: View) {
  const projects = (await ctx.services.admin.projects.list(view.admin, { limit: 100, include_archived: true })).data as any[]
  const batches: any[] = []
  for (const p of projects) {
    const page = await ctx.services.batches.list(inProject(view.admin, p.id), { limit: 50 } as any)
    batches.push(...page.data.map((b) => ({ ...b, project: p.name })))
  }
  batches.sort((a, b) => b.created_at - a.created_at)
  const jobs = await recentJobs(ctx.storage, 50)
  const fractions = await Promise.all(jobs.map(async (j) => jobFraction(j, j.kind.startsWith('fine_tuning') ? await epochsOf(ctx, view, j) : undefined)))
  return (
    <Page title="Batches & jobs" path="/dashboard/batches" view={view}>
      <h1>Batches</h1>
      <Table id="batches">
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
          const ended = ['completed', 'failed', 'expired', 'cancelled'].includes(b.status)
          const fraction = counts.total ? (counts.completed + counts.failed) / counts.total : ended ? 1 : 0
          return (
            <tr data-batch={b.id}>
              <td>
                <code>{b.id}</code>
              </td>
              <td>{b.project}</td>
              <td>{b.endpoint}</td>
              <td>{b.status}</td>
              <td>
                <Bar fraction={fraction} bad={counts.total > 0 && counts.failed / counts.total > 0.5} title={`${counts.completed} completed, ${counts.failed} failed of ${counts.total}`} />
                <span class="muted">
                  {counts.completed + counts.failed}/{counts.total}
                </span>
              </td>
              <td>{date(b.created_at)}</td>
            </tr>
          )
        })}
      </Table>
      {batches.length ? null : <p class="muted">No batches yet.</p>}
      <h2>Background jobs</h2>
      <Table id="jobs">
        <tr>
          <th>Job</th>
          <th>Kind</th>
          <th>Status</th>
          <th>Progress</th>
          <th>Attempts</th>
          <th>Updated</th>
        </tr>
        {jobs.map((j, i) => (
          <tr data-job={j.id}>
            <td>
              <code>{j.id}</code>
            </td>
            <td>{j.kind}</td>
            <td>
              {j.status}
              {j.lastError ? <div class="err">{j.lastError.slice(0, 200)}</div> : null}
            </td>
            <td>{fractions[i] === undefined ? <span class="muted">—</span> : <Bar fraction={fractions[i]!} bad={j.status === 'failed'} title={`${Math.round(fractions[i]! * 100)}%`} />}</td>
            <td>
              {j.attempts}
              {j.maxAttempts ? `/${j.maxAttempts}` : ''}
            </td>
            <td>{date(j.updatedAt)}</td>
          </tr>
        ))}
      </Table>
      {jobs.length ? null : <p class="muted">No background jobs yet.</p>}
    </Page>
  )
}

export function batchesRoutes(dash: Dash, ctx: AppContext) {
  dash.get('/dashboard/batches', (view) => batchesPage(ctx, view))
}
