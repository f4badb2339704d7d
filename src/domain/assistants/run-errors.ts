import { invalidRequest, notFound } from '../../errors.js'

// The run engine's errors (errors.md 2.7).

/** The spec's text is unverified; by analogy with G3/G4. */
export const runNotFound = (id: string) => notFound('run', id)
export const runStepNotFound = (id: string) => notFound('run step', id)

// G6
export function threadAlreadyHasActiveRun(threadId: string, runId: string) {
  return invalidRequest(`Thread ${threadId} already has an active run ${runId}.`)
}

// G8: the lists in Python's repr, as OpenAI prints them
export function toolOutputsMissing(expected: string[], got: string[]) {
  const repr = (ids: string[]) => `[${ids.map((id) => `'${id}'`).join(', ')}]`
  return invalidRequest(`Expected tool outputs for call_ids ${repr(expected)}, got ${repr(got)}`)
}

// G9
export function runNotAcceptingToolOutputs(status: string) {
  return invalidRequest(`Runs in status "${status}" do not accept tool outputs.`)
}

// G10
export function runNotCancellable(status: string) {
  return invalidRequest(`Cannot cancel run with status '${status}'.`)
}
