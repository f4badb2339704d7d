import fs from 'node:fs'
import path from 'node:path'
import type { Method } from '../../src/http/routes.js'
import { REPO_ROOT } from './spec-files.js'

/**
 * The operations the official `openai` SDK (a dev dependency, version 6) can call, read from its
 * resource classes: each `this._client.get|post|put|patch|delete(path...)` or
 * `getAPIList(path, Page, { ..., method: 'post' })`, with the method that makes the call. The
 * spec file Plinth conforms to is older than the SDK: what the SDK calls beyond it is what apps
 * written today send, so the conformance report and its test list these too.
 */
export type SdkOperation = {
  method: Method
  /** The path with the SDK's parameter names in snake case: `/fine_tuning/jobs/{fine_tuning_job_id}/pause` */
  path: string
  /** How an app calls it: `fineTuning.jobs.pause` */
  name: string
}

const RESOURCES = path.join(REPO_ROOT, 'node_modules/openai/resources')

/** `fineTuningJobID` → `fine_tuning_job_id` */
const snake = (name: string) =>
  name
    .replace(/ID$/, 'Id')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()

/** `fine-tuning/jobs/jobs.js` → `fineTuning.jobs` (an index-like file named as its folder counts once) */
function resourceName(file: string): string {
  const parts = path.relative(RESOURCES, file).replace(/\.js$/, '').split(path.sep)
  if (parts.length > 1 && parts.at(-1) === parts.at(-2)) parts.pop()
  return parts.map((p) => p.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())).join('.')
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return walk(full)
    return entry.name.endsWith('.js') && !entry.name.endsWith('.d.js') ? [full] : []
  })
}

const CALL = /this\._client\.(get|post|put|patch|delete|getAPIList)\((?:\(0, path_1\.path\) ?)?(?:`([^`]+)`|'([^']+)')/g

export function readSdkOperations(): SdkOperation[] {
  if (!fs.existsSync(RESOURCES)) throw new Error(`the openai SDK is not installed: ${RESOURCES} is missing (npm ci)`)
  const found = new Map<string, SdkOperation>()
  for (const file of walk(RESOURCES)) {
    const source = fs.readFileSync(file, 'utf8')
    const resource = resourceName(file)
    for (const match of source.matchAll(CALL)) {
      const template = (match[2] ?? match[3]).replace(/\?beta=true$/, '')
      const opPath = template.replace(/\$\{(\w+)\}/g, (_, name: string) => `{${snake(name)}}`)
      // getAPIList pages over GET unless its options say otherwise, within the call
      const call = source.slice(match.index, source.indexOf(');', match.index))
      const verb = match[1] === 'getAPIList' ? (/method: '(\w+)'/.exec(call)?.[1] ?? 'get') : match[1]
      // the resource method the call is in: the last `name(args) {` at four spaces before it
      const before = source.slice(0, match.index)
      const methods = [...before.matchAll(/^ {4}(?:async )?(\w+)\([^)]*\) \{$/gm)]
      const method = methods.at(-1)?.[1] ?? '?'
      const op: SdkOperation = { method: verb.toUpperCase() as Method, path: opPath, name: `${resource}.${method}` }
      found.set(`${op.method} ${op.path}`, op)
    }
  }
  return [...found.values()].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method))
}

/** A path's shape, whatever its parameters are called: `/a/{x}/b` and `/a/{y}/b` match. */
export const pathShape = (p: string) => p.replace(/\{[^}]+\}/g, '{}')

/** The report's group of an operation beyond the spec file, from its path. */
export function sdkGroup(opPath: string): string {
  const first = opPath.split('/')[1]
  if (first === 'organization' || first === 'projects') {
    if (/\/roles/.test(opPath)) return 'Roles'
    if (/\/groups/.test(opPath)) return 'Groups'
    if (/spend_/.test(opPath)) return 'Spend limits and alerts'
    if (/data_retention/.test(opPath)) return 'Data retention'
    if (/hosted_tool_permissions|model_permissions/.test(opPath)) return 'Project permissions'
    if (/\/usage\//.test(opPath)) return 'Usage'
    if (/service_accounts/.test(opPath)) return 'Service accounts'
    return 'Organization'
  }
  if (first === 'fine_tuning') return opPath.includes('/graders') ? 'Graders' : 'Fine-tuning'
  const names: Record<string, string> = { chatkit: 'ChatKit', containers: 'Containers', conversations: 'Conversations', realtime: 'Realtime', responses: 'Responses', skills: 'Skills', videos: 'Videos' }
  return names[first] ?? first
}
