import type { Method } from '../http/routes.js'

/**
 * Operations of the OpenAI spec that Plinth does not serve yet. Each answers 501 with an
 * OpenAI-shaped error (code not_implemented, x-should-retry: false) instead of a misleading 404,
 * and `npm run conformance` lists them as missing. Remove a line when its route lands; the
 * conformance test fails if this list and the routes disagree with the spec.
 */
export const NOT_IMPLEMENTED: readonly [method: Method, path: string, operationId: string, tag: string][] = [
]
