import { invalidRequest } from '../../errors.js'
import { MAX_FILTER_DEPTH, type ComparisonFilter, type Filter } from '../../schemas/vector-stores.js'

/**
 * What the schema cannot say about a filter: `in` and `nin` take an array, the others one value;
 * `gt`, `gte`, `lt` and `lte` compare numbers or strings, not booleans; compound filters nest at
 * most MAX_FILTER_DEPTH deep. A filter of the wrong shape is a 400 naming the part at fault.
 */
export function checkFilter(filter: Filter, param: string, depth = 1) {
  if (depth > MAX_FILTER_DEPTH) {
    throw invalidRequest(`Invalid '${param}': compound filters may nest at most ${MAX_FILTER_DEPTH} levels deep.`, param, 'invalid_value')
  }
  if (filter.type === 'and' || filter.type === 'or') {
    ;(filter as { filters: Filter[] }).filters.forEach((f, i) => checkFilter(f, `${param}.filters[${i}]`, depth + 1))
    return
  }
  const comparison = filter as ComparisonFilter
  const value = comparison.value
  const many = filter.type === 'in' || filter.type === 'nin'
  if (many && !Array.isArray(value)) {
    throw invalidRequest(`Invalid type for '${param}.value': expected an array for the '${filter.type}' filter, but got ${typeof value} instead.`, `${param}.value`, 'invalid_type')
  }
  if (!many && Array.isArray(value)) {
    throw invalidRequest(`Invalid type for '${param}.value': expected a string, a number or a boolean for the '${filter.type}' filter, but got an array instead.`, `${param}.value`, 'invalid_type')
  }
  if (many && (value as unknown[]).length === 0) {
    throw invalidRequest(`Invalid '${param}.value': empty array. Expected an array with minimum length 1, but got an empty array instead.`, `${param}.value`, 'empty_array')
  }
  if (['gt', 'gte', 'lt', 'lte'].includes(comparison.type) && typeof value === 'boolean') {
    throw invalidRequest(`Invalid type for '${param}.value': the '${filter.type}' filter compares numbers or strings, but got a boolean instead.`, `${param}.value`, 'invalid_type')
  }
}
