import type { Context } from 'hono'
import type { AppContext } from '../../context.js'
import type { Bucket } from '../../domain/usage/reports.js'
import { costBuckets, usageBuckets, type UsageFilters } from '../usage-query.js'

/** A CSV cell: quoted when it holds a comma, quote or newline; formulas defused (CWE-1236). */
export function cell(value: unknown): string {
  let text = value === null || value === undefined ? '' : String(value)
  if (/^[=+\-@\t\r]/.test(text) && typeof value === 'string') text = `'${text}`
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

function toCsv(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n'
}

function iso(seconds: number) {
  return new Date(seconds * 1000).toISOString()
}

function attachment(c: Context, name: string, body: string) {
  return c.body(body, 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}"` })
}

/** Usage per bucket, project, model and key: the usage API's results, one line each. */
export async function usageCsv(ctx: AppContext, f: UsageFilters, c: Context) {
  const buckets: Bucket[] = await usageBuckets(ctx, f, ['project_id', 'model', 'api_key_id'])
  const measures = new Set<string>()
  for (const b of buckets) for (const r of b.results) for (const [k, v] of Object.entries(r)) if (typeof v === 'number') measures.add(k)
  const columns = [...measures]
  const rows = buckets.flatMap((b) => b.results.map((r) => [iso(b.start_time), iso(b.end_time), r.project_id, r.model, r.api_key_id, ...columns.map((k) => r[k] ?? 0)]))
  return attachment(c, `usage-${f.kind}-${f.from}-${f.to}.csv`, toCsv(['start_time', 'end_time', 'project_id', 'model', 'api_key_id', ...columns], rows))
}

/** Costs per day, line item and project: the costs API's results, one line each. */
export async function costsCsv(ctx: AppContext, f: UsageFilters, c: Context) {
  const buckets = await costBuckets(ctx, f, ['line_item', 'project_id'])
  const rows = buckets.flatMap((b) => b.results.map((r: any) => [iso(b.start_time), iso(b.end_time), r.project_id, r.line_item, r.amount?.value ?? 0, r.amount?.currency ?? 'usd']))
  return attachment(c, `costs-${f.from}-${f.to}.csv`, toCsv(['start_time', 'end_time', 'project_id', 'line_item', 'amount', 'currency'], rows))
}
