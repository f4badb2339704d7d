import type { AppContext } from '../../context.js'
import { BarChart } from '../chart.js'
import type { Dash } from '../dash.js'
import { Page } from '../layout.js'
import type { View } from '../view.js'

type Bucket = { start_time: number; results: Record<string, any>[] }

function sum(bucket: Bucket, field: string): number {
  return bucket.results.reduce((total, r) => total + (typeof r[field] === 'number' ? r[field] : 0), 0)
}

function dayLabel(seconds: number) {
  return new Date(seconds * 1000).toISOString().slice(5, 10)
}

function hourLabel(seconds: number) {
  return new Date(seconds * 1000).toISOString().slice(11, 16)
}

/** Usage and costs of the whole organization, from the same rollups as the usage API. */
export async function overviewPage(ctx: AppContext, view: View) {
  const reports = ctx.services.usageReports
  const now = Math.floor(Date.now() / 1000)
  const dayStart = now - (now % 86_400) - 13 * 86_400
  const hourStart = now - (now % 3600) - 23 * 3600
  const [daily, hourly, embeddings, costs] = await Promise.all([
    reports.usage('completions', { start_time: dayStart, bucket_width: '1d', limit: 14 }),
    reports.usage('completions', { start_time: hourStart, bucket_width: '1h', limit: 24 }),
    reports.usage('embeddings', { start_time: dayStart, bucket_width: '1d', limit: 14 }),
    reports.costs({ start_time: dayStart, bucket_width: '1d', limit: 14 }),
  ])
  const days = (daily.data as Bucket[]).map((b) => dayLabel(b.start_time))
  const hours = (hourly.data as Bucket[]).map((b) => hourLabel(b.start_time))
  const requests = (daily.data as Bucket[]).map((b) => sum(b, 'num_model_requests'))
  const input = (daily.data as Bucket[]).map((b) => sum(b, 'input_tokens'))
  const output = (daily.data as Bucket[]).map((b) => sum(b, 'output_tokens'))
  const cost = (costs.data as Bucket[]).map((b) => b.results.reduce((t, r) => t + (r.amount?.value ?? 0), 0))
  const total = (values: number[]) => values.reduce((a, b) => a + b, 0)
  return (
    <Page title="Overview" path="/dashboard" view={view}>
      <h1>Overview</h1>
      <div class="cards">
        <div class="card">
          <div class="l">Requests, 14 days</div>
          <div class="n" id="requests-14d">{total(requests).toLocaleString('en-US')}</div>
        </div>
        <div class="card">
          <div class="l">Tokens in / out</div>
          <div class="n">
            {total(input).toLocaleString('en-US')} / {total(output).toLocaleString('en-US')}
          </div>
        </div>
        <div class="card">
          <div class="l">Embedding requests</div>
          <div class="n">{total((embeddings.data as Bucket[]).map((b) => sum(b, 'num_model_requests'))).toLocaleString('en-US')}</div>
        </div>
        <div class="card">
          <div class="l">Cost, 14 days</div>
          <div class="n">${total(cost).toFixed(4)}</div>
        </div>
        <div class="card">
          <div class="l">Models served</div>
          <div class="n">{ctx.providers.list().length}</div>
        </div>
      </div>
      <BarChart title="Completion requests per day" labels={days} series={[{ label: 'requests', color: '#3b82f6', values: requests }]} />
      <BarChart
        title="Tokens per day"
        labels={days}
        unit="tokens"
        series={[
          { label: 'input', color: '#60a5fa', values: input },
          { label: 'output', color: '#1d4ed8', values: output },
        ]}
      />
      <BarChart
        title="Completion requests per hour, last 24 hours"
        labels={hours}
        series={[{ label: 'requests', color: '#10b981', values: (hourly.data as Bucket[]).map((b) => sum(b, 'num_model_requests')) }]}
      />
      <BarChart title="Cost per day (USD, from the price table)" labels={days} unit="USD" series={[{ label: 'cost', color: '#f59e0b', values: cost }]} />
    </Page>
  )
}

export function overviewRoutes(dash: Dash, ctx: AppContext) {
  dash.get('/dashboard', (view) => overviewPage(ctx, view))
}
