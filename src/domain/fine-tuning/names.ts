/**
 * Fine-tuned model names as OpenAI builds them: `ft:<base>:<org>:<suffix>:<id>`, the org's name
 * as a slug (`personal` when it has none), an empty suffix when none was given, and 8 characters
 * of the job's id. A checkpoint adds `:ckpt-step-<N>`.
 */
export function fineTunedModelName(base: string, orgName: string, suffix: string | null, jobId: string) {
  return `ft:${base}:${orgSlug(orgName)}:${suffix ?? ''}:${jobId.slice(-8)}`
}

export function checkpointModelName(fineTunedModel: string, step: number) {
  return `${fineTunedModel}:ckpt-step-${step}`
}

export function orgSlug(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
  return slug || 'personal'
}

/** A suffix becomes part of a model id with `:` separators: letters, digits, `-`, `_`, `.` only. */
export const SUFFIX_PATTERN = /^[A-Za-z0-9._-]+$/
