import type { AppContext } from '../../context.js'
import { actorOf } from '../../domain/organization/audit.js'
import { invalidRequest } from '../../errors.js'
import { parseKeyPermissions } from '../../schemas/key-permissions.js'
import { ModelPermissionsParams, ProjectCreateParams, ServiceAccountCreateParams } from '../../schemas/organization.js'
import { ProjectRateLimitUpdateRequest } from '../../schemas/rate-limits.js'
import { validate } from '../../schemas/validation.js'
import { field, fields, type Dash, type Form } from '../dash.js'
import { projectPage } from './project.js'

function permissionsOf(form: Form) {
  try {
    return parseKeyPermissions(field(form, 'permissions') || 'all')
  } catch (error) {
    throw invalidRequest(`Invalid permissions: ${(error as Error).message}.`, 'permissions')
  }
}

/**
 * The project page's changes, each through the service the Administration API (or, for keys,
 * the CLI) uses: the same checks, the same audit log entries, with the signed-in admin key as
 * the actor.
 */
export function projectActions(dash: Dash, ctx: AppContext) {
  const { projectKeys, serviceAccounts, projects } = ctx.services.admin
  const base = '/dashboard/projects/:id'

  dash.post(`${base}/keys`, async (view, form, c) => {
    const projectId = c.req.param('id')!
    const { name } = validate(ProjectCreateParams, { name: field(form, 'name') })
    const created = await projectKeys.create(actorOf(view.admin), view.admin.orgId, projectId, { name, permissions: permissionsOf(form) })
    const page = await projectPage(ctx, view, projectId, { label: `Key ${name} created (${created.row.id}).`, secret: created.secret })
    return { page, status: 201 }
  })
  dash.post(`${base}/keys/:key/permissions`, async (view, form, c) => {
    const key = c.req.param('key')!
    // the key must be this project's: the path names both
    await projectKeys.get(view.admin, c.req.param('id')!, key)
    await projectKeys.setPermissions(actorOf(view.admin), view.admin.orgId, key, permissionsOf(form))
    return { notice: `Permissions of ${key} saved.` }
  })
  dash.post(`${base}/keys/:key/revoke`, async (view, _form, c) => {
    const deleted = await projectKeys.delete(view.admin, c.req.param('id')!, c.req.param('key')!)
    return { notice: `Key ${deleted.id} revoked.` }
  })
  dash.post(`${base}/service-accounts`, async (view, form, c) => {
    const projectId = c.req.param('id')!
    const { name } = validate(ServiceAccountCreateParams, { name: field(form, 'name') })
    const account = await serviceAccounts.create(view.admin, projectId, name)
    const label = `Service account ${account.name} created (${account.id}), with its key ${account.api_key.id}.`
    return { page: await projectPage(ctx, view, projectId, { label, secret: account.api_key.value }), status: 201 }
  })
  dash.post(`${base}/service-accounts/:account/delete`, async (view, _form, c) => {
    const deleted = await serviceAccounts.delete(view.admin, c.req.param('id')!, c.req.param('account')!)
    return { notice: `Service account ${deleted.id} deleted; its key no longer works.` }
  })
  dash.post(`${base}/request-log-bodies`, async (view, form, c) => {
    const keep = field(form, 'keep')
    if (keep !== 'on' && keep !== 'off') throw invalidRequest("keep must be 'on' or 'off'.", 'keep')
    const projectId = c.req.param('id')!
    const on = await projects.setRequestLogBodies(view.admin, projectId, keep === 'on')
    // what was kept goes too (on this node: each node keeps its own log)
    if (!on) ctx.requestLog.forgetBodies(projectId)
    return { notice: on ? "The request log now keeps this project's prompts and answers (8 KB each)." : "The request log no longer keeps this project's prompts and answers." }
  })
  dash.post(`${base}/rate-limits/:limit`, async (view, form, c) => {
    const projectId = c.req.param('id')!
    const limitId = c.req.param('limit')!
    const current = (await ctx.services.limits.list(projectId, { limit: 100 })).data.find((l) => l.id === limitId) as Record<string, unknown> | undefined
    // only the fields changed go in the request, as an API client would send them
    const changes: Record<string, number> = {}
    for (const name of Object.keys(ProjectRateLimitUpdateRequest.shape)) {
      const text = field(form, name)
      if (text === '') continue
      const value = Number(text)
      if (!current || current[name] !== value) changes[name] = value
    }
    if (!Object.keys(changes).length) return { notice: 'Nothing changed.' }
    const values = validate(ProjectRateLimitUpdateRequest, changes)
    const updated = await ctx.services.limits.modify(view.admin, projectId, limitId, values)
    return { notice: `Rate limits of ${updated.model} saved.` }
  })
  dash.post(`${base}/model-permissions`, async (view, form, c) => {
    const projectId = c.req.param('id')!
    const mode = field(form, 'mode')
    const permissions = mode === 'none' ? null : validate(ModelPermissionsParams, { mode, model_ids: fields(form, 'model_ids') })
    await projects.setModelPermissions(view.admin, projectId, permissions)
    return { notice: 'Model permissions saved.' }
  })
}
