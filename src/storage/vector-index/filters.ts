import { sql, type RawBuilder } from 'kysely'
import type { ComparisonFilter, Filter } from '../../schemas/vector-stores.js'

/** How one dialect writes a comparison on an attribute of `vector_store_files f`. */
export type ComparisonSql = (filter: ComparisonFilter) => RawBuilder<unknown>

/**
 * An attribute filter as a SQL condition on the file's attributes, so that it runs inside the
 * search query. Compound filters nest with `and` / `or`; the leaves are the dialect's.
 */
export function filterSql(filter: Filter | undefined, leaf: ComparisonSql): RawBuilder<unknown> {
  if (!filter) return sql`1 = 1`
  if (filter.type === 'and' || filter.type === 'or') {
    const parts = filter.filters.map((f) => sql`(${filterSql(f, leaf)})`)
    return sql.join(parts, filter.type === 'and' ? sql` and ` : sql` or `)
  }
  return leaf(filter as ComparisonFilter)
}

/** The values of `in` / `nin` (an array), of the others (one value). */
export function filterValues(filter: ComparisonFilter): (string | number | boolean)[] {
  return Array.isArray(filter.value) ? filter.value : [filter.value]
}

export const RANGE_OPERATORS = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const
