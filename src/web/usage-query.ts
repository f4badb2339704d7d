import type { AppContext } from '../context.js'
import type { Bucket, UsageParams } from '../domain/usage/reports.js'
import type { UsageKind } from '../domain/usage/results.js'
import { invalidRequest } from '../errors.js'

export const KINDS: UsageKind[] = ['completions', 'embeddings', 'moderations', 'images', 'audio_speeches', 'audio_transcriptions']
const WIDTHS = { '1m': 60, '1h': 3600, '1d': 86_400 } as const
/** How many buckets one chart may draw: a wider range needs a wider bucket. */
const MAX_BUCKETS = 1440

export type UsageFilters = {
  kind: UsageKind
  project: string
  model: string
  key: string
  from: string
  to: string
  width: keyof typeof WIDTHS
  start: number
  end: number
}

function day(seconds: number) {
  return new Date(seconds * 1000).toISOString().slice(0, 10)
}

/** The usage page's filters from its query: defaults are the last 14 days by day. */
export function readFilters(query: Record<string, string>, now = Math.floor(Date.now() / 1000)): UsageFilters {
  const kind = (KINDS as string[]).includes(query.kind) ? (query.kind as UsageKind) : 'completions'
  const width = (query.width in WIDTHS ? query.width : '1d') as UsageFilters['width']
  const today = now - (now % 86_400)
  const from = /^\d{4}-\d{2}-\d{2}$/.test(query.from ?? '') ? query.from : day(today - 13 * 86_400)
  const to = /^\d{4}-\d{2}-\d{2}$/.test(query.to ?? '') ? query.to : day(today)
  const start = Date.parse(`${from}T00:00:00Z`) / 1000
  // the `to` day is included, up to now
  const end = Math.min(Date.parse(`${to}T00:00:00Z`) / 1000 + 86_400, now + 1)
  if (!(end > start)) throw invalidRequest(`The range must end after it starts (from ${from} to ${to}).`)
  const buckets = Math.ceil((end - start) / WIDTHS[width])
  if (buckets > MAX_BUCKETS) {
    throw invalidRequest(`${buckets.toLocaleString('en-US')} buckets of ${width} is too many to chart (at most ${MAX_BUCKETS}): choose a shorter range or a wider bucket.`)
  }
  return { kind, project: query.project ?? '', model: query.model ?? '', key: query.key ?? '', from, to, width, start, end }
}

/** The filters as the usage service's parameters (the API's query, as a client would send it). */
export function usageParams(f: UsageFilters): UsageParams {
  return {
    start_time: f.start,
    end_time: f.end,
    bucket_width: f.width,
    project_ids: f.project ? [f.project] : undefined,
    models: f.model ? [f.model] : undefined,
    api_key_ids: f.key ? [f.key] : undefined,
  }
}

const PAGE = { '1m': 1440, '1h': 168, '1d': 31 } as const

/** Every bucket of the range, page after page, as an API client would read them. */
export async function usageBuckets(ctx: AppContext, f: UsageFilters, groupBy?: string[]): Promise<Bucket[]> {
  const out: Bucket[] = []
  let page: string | undefined
  do {
    const answer = await ctx.services.usageReports.usage(f.kind, { ...usageParams(f), limit: PAGE[f.width], page, group_by: groupBy })
    out.push(...answer.data)
    page = answer.next_page ?? undefined
  } while (page)
  return out
}

/** Daily costs of the range (the costs API has day buckets only), grouped by line item. */
export async function costBuckets(ctx: AppContext, f: UsageFilters, groupBy: ('project_id' | 'line_item' | 'api_key_id')[] = ['line_item']): Promise<Bucket[]> {
  const out: Bucket[] = []
  let page: string | undefined
  do {
    const answer = await ctx.services.usageReports.costs({
      start_time: f.start,
      end_time: f.end,
      bucket_width: '1d',
      limit: 180,
      page,
      project_ids: f.project ? [f.project] : undefined,
      api_key_ids: f.key ? [f.key] : undefined,
      group_by: groupBy,
    })
    out.push(...answer.data)
    page = answer.next_page ?? undefined
  } while (page)
  // the costs API has no model filter: a model's line items are named `<model>, input`...
  if (!f.model) return out
  return out.map((b) => ({ ...b, results: b.results.filter((r) => String(r.line_item ?? '').startsWith(`${f.model}, `)) }))
}

export function sumOf(bucket: Bucket, field: string): number {
  return bucket.results.reduce((total, r) => total + (typeof r[field] === 'number' ? (r[field] as number) : 0), 0)
}

export function costOf(bucket: Bucket): number {
  return bucket.results.reduce((total, r: any) => total + (r.amount?.value ?? 0), 0)
}

export function bucketLabel(seconds: number, width: UsageFilters['width']): string {
  const iso = new Date(seconds * 1000).toISOString()
  return width === '1d' ? iso.slice(5, 10) : width === '1h' ? `${iso.slice(5, 10)} ${iso.slice(11, 13)}h` : iso.slice(11, 16)
}
