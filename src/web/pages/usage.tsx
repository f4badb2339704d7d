import type { AppContext } from '../../context.js'
import { ApiError } from '../../errors.js'
import { BarChart } from '../chart.js'
import type { Dash } from '../dash.js'
import { Page } from '../layout.js'
import { bucketLabel, costBuckets, costOf, KINDS, readFilters, sumOf, usageBuckets, type UsageFilters } from '../usage-query.js'
import type { View } from '../view.js'
import { usageCsv, costsCsv } from './usage-csv.js'

async function FilterForm(props: { ctx: AppContext; view: View; f: Partial<UsageFilters> }) {
  const { ctx, view, f } = props
  const projects = (await ctx.services.admin.projects.list(view.admin, { limit: 100, include_archived: true })).data as any[]
  const keys = (await ctx.services.keys.list()).filter((k) => k.project_id)
  const select = (name: string, value: string | undefined, options: [string, string][]) => (
    <select name={name}>
      {options.map(([v, label]) => (
        <option value={v} selected={v === (value ?? '')}>
          {label}
        </option>
      ))}
    </select>
  )
  return (
    <form method="get" action="/dashboard/usage" class="row panel" id="usage-filters">
      <label>
        Usage of
        {select('kind', f.kind, KINDS.map((k) => [k, k.replace('_', ' ')]))}
      </label>
      <label>
        Project
        {select('project', f.project, [['', 'all'], ...projects.map((p): [string, string] => [p.id, p.name])])}
      </label>
      <label>
        Model
        {select('model', f.model, [['', 'all'], ...ctx.providers.list().map((m): [string, string] => [m.id, m.id])])}
      </label>
      <label>
        Key
        {select('key', f.key, [['', 'all'], ...keys.map((k): [string, string] => [k.id, `${k.name} (${k.redacted_value})`])])}
      </label>
      <label>
        From
        <input type="date" name="from" value={f.from} />
      </label>
      <label>
        To
        <input type="date" name="to" value={f.to} />
      </label>
      <label>
        Bucket
        {select('width', f.width, [
          ['1d', 'day'],
          ['1h', 'hour'],
          ['1m', 'minute'],
        ])}
      </label>
      <button type="submit">Show</button>
    </form>
  )
}

/** Usage and cost charts with filters, from the usage and costs services the API answers from. */
export async function usagePage(ctx: AppContext, view: View) {
  let f: UsageFilters
  try {
    f = readFilters(view.query)
  } catch (error) {
    if (!(error instanceof ApiError)) throw error
    return (
      <Page title="Usage" path="/dashboard/usage" view={view} error={error.message}>
        <h1>Usage</h1>
        <FilterForm ctx={ctx} view={view} f={view.query as Partial<UsageFilters>} />
      </Page>
    )
  }
  const [usage, costs] = await Promise.all([usageBuckets(ctx, f), costBuckets(ctx, f)])
  const labels = usage.map((b) => bucketLabel(b.start_time, f.width))
  const requests = usage.map((b) => sumOf(b, 'num_model_requests'))
  const input = usage.map((b) => sumOf(b, 'input_tokens'))
  const output = usage.map((b) => sumOf(b, 'output_tokens'))
  const cost = costs.map(costOf)
  const total = (values: number[]) => values.reduce((a, b) => a + b, 0)
  const query = new URLSearchParams({ kind: f.kind, project: f.project, model: f.model, key: f.key, from: f.from, to: f.to, width: f.width }).toString()
  return (
    <Page title="Usage" path="/dashboard/usage" view={view}>
      <h1>Usage</h1>
      <FilterForm ctx={ctx} view={view} f={f} />
      <div class="cards">
        <div class="card">
          <div class="l">Requests</div>
          <div class="n" id="usage-requests">
            {total(requests).toLocaleString('en-US')}
          </div>
        </div>
        <div class="card">
          <div class="l">Tokens in / out</div>
          <div class="n" id="usage-tokens">
            {total(input).toLocaleString('en-US')} / {total(output).toLocaleString('en-US')}
          </div>
        </div>
        <div class="card">
          <div class="l">Cost (USD)</div>
          <div class="n" id="usage-cost">
            ${total(cost).toFixed(4)}
          </div>
        </div>
      </div>
      <p class="row">
        <a href={`/dashboard/usage.csv?${query}`} id="usage-csv" download>
          Usage as CSV
        </a>
        <a href={`/dashboard/costs.csv?${query}`} id="costs-csv" download>
          Costs as CSV
        </a>
      </p>
      <BarChart id="chart-requests" title={`Requests per ${f.width === '1d' ? 'day' : f.width === '1h' ? 'hour' : 'minute'}`} labels={labels} series={[{ label: 'requests', color: '#3b82f6', values: requests }]} />
      <BarChart
        id="chart-tokens"
        title="Tokens"
        labels={labels}
        unit="tokens"
        series={[
          { label: 'input', color: '#60a5fa', values: input },
          { label: 'output', color: '#1d4ed8', values: output },
        ]}
      />
      <BarChart id="chart-cost" title="Cost per day (USD, from the price table)" labels={costs.map((b) => bucketLabel(b.start_time, '1d'))} unit="USD" series={[{ label: 'cost', color: '#f59e0b', values: cost }]} />
    </Page>
  )
}

export function usageRoutes(dash: Dash, ctx: AppContext) {
  dash.get('/dashboard/usage', (view) => usagePage(ctx, view))
  dash.get('/dashboard/usage.csv', (view, c) => usageCsv(ctx, readFilters(view.query), c))
  dash.get('/dashboard/costs.csv', (view, c) => costsCsv(ctx, readFilters(view.query), c))
}
