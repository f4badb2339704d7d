import type { SelectQueryBuilder } from 'kysely'

/** OpenAI's cursor list parameters: `after` and `before` are ids of the same list. */
export type Keyset = { after?: string; before?: string; limit: number; order: 'asc' | 'desc' }

export type KeysetPage<R> = { rows: R[]; hasMore: boolean }

/**
 * One page of a list ordered by the time-sortable `id` column. `after` pages on in the list's
 * order, `before` back towards its start: with only `before`, the page is the `limit` rows right
 * before it (still shown in the list's order), and `hasMore` says whether more precede them.
 */
export async function keysetPage<O>(
  query: SelectQueryBuilder<any, any, O>,
  page: Keyset,
  column = 'id',
): Promise<KeysetPage<O>> {
  const up = page.order === 'asc'
  let q = query
  if (page.after !== undefined) q = q.where(column, up ? '>' : '<', page.after)
  if (page.before !== undefined) q = q.where(column, up ? '<' : '>', page.before)
  const backwards = page.before !== undefined && page.after === undefined
  const order = backwards === up ? 'desc' : 'asc'
  const rows = await q
    .orderBy(column, order)
    .limit(page.limit + 1)
    .execute()
  const hasMore = rows.length > page.limit
  const kept = rows.slice(0, page.limit)
  return { rows: backwards ? kept.reverse() : kept, hasMore }
}
