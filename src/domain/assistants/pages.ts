import { toPage, type ListPage } from '../../schemas/shared.js'
import type { Keyset, KeysetPage } from '../../storage/repositories/keyset.js'

/** A keyset page of rows → OpenAI's list object. */
export function listOf<R, T extends { id: string }>(
  page: KeysetPage<R>,
  render: (row: R) => T,
): ListPage<T> {
  return toPage(page.rows.map(render), page.hasMore)
}

/**
 * The same cursor semantics as the SQL keyset pages (storage/repositories/keyset.ts), over a
 * short list held in memory (the files of a v1 assistant or message, at most 20). `items` come
 * in ascending order; a cursor that is not in the list matches nothing.
 */
export function pageInMemory<T extends { id: string }>(items: T[], query: Keyset): ListPage<T> {
  const list = query.order === 'asc' ? items : [...items].reverse()
  const at = (id: string) => {
    const i = list.findIndex((item) => item.id === id)
    return i < 0 ? undefined : i
  }
  let start = 0
  let end = list.length
  if (query.after !== undefined) start = (at(query.after) ?? list.length) + 1
  if (query.before !== undefined) end = at(query.before) ?? 0
  if (start >= end) return toPage([], false)
  if (query.before !== undefined && query.after === undefined) {
    const from = Math.max(start, end - query.limit)
    return toPage(list.slice(from, end), from > start)
  }
  const to = Math.min(end, start + query.limit)
  return toPage(list.slice(start, to), to < end)
}
