import type { AppContext } from '../../context.js'
import type { KeyPermissions } from '../../principal.js'
import { KEY_RESOURCES } from '../../schemas/key-permissions.js'
import type { Dash } from '../dash.js'
import { Page } from '../layout.js'
import { date, Form, Table, type View } from '../view.js'
import { projectActions } from './project-actions.js'
import { loadMembers, memberActions, MembersSection } from './project-members.js'

/** The CLI's spelling of a key's permissions: all, read_only, or models=read,chat=write. */
export function permissionsText(p: KeyPermissions): string {
  if (p.mode !== 'restricted') return p.mode
  const granted = Object.entries(p.scopes ?? {}).filter(([, access]) => access !== 'none')
  return granted.map(([resource, access]) => `${resource}=${access}`).join(',') || 'none'
}

const LIMIT_FIELDS = [
  ['max_requests_per_1_minute', 'requests/min'],
  ['max_tokens_per_1_minute', 'tokens/min'],
  ['max_requests_per_1_day', 'requests/day'],
  ['batch_1_day_max_input_tokens', 'batch tokens/day'],
] as const

/** One project: its keys (create, restrict, revoke), service accounts, rate limits and models. */
export async function projectPage(ctx: AppContext, view: View, projectId: string, created?: { label: string; secret: string }) {
  const { projects, projectKeys, serviceAccounts } = ctx.services.admin
  const project = await projects.get(view.admin, projectId)
  const keys = (await projectKeys.list(view.admin, projectId, { limit: 100 })).data as any[]
  const permissions = new Map((await ctx.services.keys.list({ projectId })).map((row) => [row.id, JSON.parse(row.permissions) as KeyPermissions]))
  const accounts = (await serviceAccounts.list(view.admin, projectId, { limit: 100 })).data as any[]
  const limits = (await ctx.services.limits.list(projectId, { limit: 100 })).data
  const policy = await projects.modelPermissions(view.admin, projectId)
  const members = await loadMembers(ctx, view, projectId)
  const keepsBodies = await projects.requestLogBodies(view.admin, projectId)
  const models = ctx.providers.list()
  const base = `/dashboard/projects/${projectId}`
  const notice = created ? (
    <>
      <b>{created.label}</b> Copy the secret now: it is shown only once.
      <br />
      <code id="new-secret">{created.secret}</code>
    </>
  ) : undefined
  return (
    <Page title={project.name} path="/dashboard/projects" view={view} notice={notice}>
      <h1>
        {project.name} <code>{project.id}</code> <span class="muted">{project.status}</span>
      </h1>

      <h2>API keys</h2>
      <Table id="keys">
        <tr>
          <th>Key</th>
          <th>Owner</th>
          <th>Permissions</th>
          <th>Last used</th>
          <th></th>
        </tr>
        {keys.map((k) => (
          <tr data-key={k.id}>
            <td>
              {k.name}
              <br />
              <code>{k.redacted_value}</code> <code>{k.id}</code>
            </td>
            <td>{k.owner?.user?.email ?? k.owner?.service_account?.name ?? k.owner?.type ?? '—'}</td>
            <td>
              <Form view={view} action={`${base}/keys/${k.id}/permissions`} class="row">
                <input name="permissions" value={permissionsText(permissions.get(k.id) ?? { mode: 'all' })} size={22} aria-label="Permissions" />
                <button type="submit" class="small">
                  Save
                </button>
              </Form>
            </td>
            <td>{date(k.last_used_at)}</td>
            <td>
              {k.owner?.type === 'service_account' ? null : (
                <Form view={view} action={`${base}/keys/${k.id}/revoke`} class="inline">
                  <button type="submit" class="danger small">
                    Revoke
                  </button>
                </Form>
              )}
            </td>
          </tr>
        ))}
      </Table>
      <Form view={view} action={`${base}/keys`} class="row panel" id="create-key">
        <label>
          Key name
          <input name="name" placeholder="Key name" required maxlength={256} />
        </label>
        <label>
          Permissions
          <input name="permissions" value="all" size={26} />
        </label>
        <button type="submit">Create key</button>
      </Form>
      <p class="muted">
        Permissions: <code>all</code>, <code>read_only</code>, or <code>resource=none|read|write,…</code> (resources:{' '}
        {KEY_RESOURCES.join(', ')}; those not named get none).
      </p>

      <h2>Service accounts</h2>
      <Table id="service-accounts">
        <tr>
          <th>Account</th>
          <th>Role</th>
          <th>Created</th>
          <th></th>
        </tr>
        {accounts.map((a) => (
          <tr data-service-account={a.id}>
            <td>
              {a.name} <code>{a.id}</code>
            </td>
            <td>{a.role}</td>
            <td>{date(a.created_at)}</td>
            <td>
              <Form view={view} action={`${base}/service-accounts/${a.id}/delete`} class="inline">
                <button type="submit" class="danger small" title="Deletes the account and revokes its key">
                  Delete
                </button>
              </Form>
            </td>
          </tr>
        ))}
      </Table>
      <Form view={view} action={`${base}/service-accounts`} class="row panel" id="create-service-account">
        <label>
          Service account name
          <input name="name" placeholder="ci-bot" required maxlength={256} />
        </label>
        <button type="submit">Create service account</button>
      </Form>

      <MembersSection view={view} projectId={projectId} data={members} />

      <h2>Rate limits</h2>
      <Table id="rate-limits">
        <tr>
          <th>Model</th>
          {LIMIT_FIELDS.map(([, label]) => (
            <th>{label}</th>
          ))}
          <th></th>
        </tr>
        {limits.map((l: any) => (
          <tr data-model={l.model}>
            <td>
              <code>{l.model}</code>
            </td>
            {LIMIT_FIELDS.map(([name]) => (
              <td>
                <input form={`limit-${l.id}`} name={name} value={l[name] ?? ''} type="number" min={0} style="width:110px" aria-label={`${l.model} ${name}`} />
              </td>
            ))}
            <td>
              <Form view={view} action={`${base}/rate-limits/${l.id}`} id={`limit-${l.id}`}>
                <button type="submit" class="small">
                  Save
                </button>
              </Form>
            </td>
          </tr>
        ))}
      </Table>

      <h2>Model permissions</h2>
      <Form view={view} action={`${base}/model-permissions`} class="panel" id="model-permissions">
        <p class="row">
          <label>
            Mode
            <select name="mode">
              <option value="none" selected={!policy.model_ids.length && policy.mode === 'deny_list'}>
                every model
              </option>
              <option value="allow_list" selected={policy.mode === 'allow_list'}>
                only the models checked (allow list)
              </option>
              <option value="deny_list" selected={policy.mode === 'deny_list' && policy.model_ids.length > 0}>
                all but the models checked (deny list)
              </option>
            </select>
          </label>
        </p>
        <p class="row">
          {models.map((m) => (
            <label style="flex-direction:row;gap:4px">
              <input type="checkbox" name="model_ids" value={m.id} checked={policy.model_ids.includes(m.id)} />
              {m.id}
            </label>
          ))}
        </p>
        <button type="submit">Save model permissions</button>
      </Form>

      <h2>Request log</h2>
      <Form view={view} action={`${base}/request-log-bodies`} class="panel" id="request-log-bodies">
        <p>
          Prompt and answer text of this project's requests:{' '}
          <b id="request-log-bodies-state">{keepsBodies ? 'kept' : 'not kept'}</b> in the dashboard's{' '}
          <a href={`/dashboard/requests?project=${projectId}`}>request log</a>. When kept, each is cut at 8 KB and stays in
          this node's memory only as long as its request's entry (<code>dashboard.requestLogSize</code>); headers, and so API
          keys, never are.
        </p>
        <input type="hidden" name="keep" value={keepsBodies ? 'off' : 'on'} />
        <button type="submit" class={keepsBodies ? 'danger' : ''}>
          {keepsBodies ? 'Stop keeping prompts and answers' : 'Keep prompts and answers'}
        </button>
      </Form>
    </Page>
  )
}

export function projectRoutes(dash: Dash, ctx: AppContext) {
  dash.get('/dashboard/projects/:id', (view, c) => projectPage(ctx, view, c.req.param('id')!))
  projectActions(dash, ctx)
  memberActions(dash, ctx)
}
