import type { AppContext } from '../../context.js'
import { Page } from '../layout.js'
import { date, inProject, type View } from '../view.js'
import { chosenProject } from './assistants.js'

function text(message: any): string {
  return (message.content ?? []).map((part: any) => part.text?.value ?? `[${part.type}]`).join('\n')
}

function stepDetail(step: any): string {
  const d = step.step_details ?? {}
  if (d.type === 'message_creation') return `message ${d.message_creation?.message_id ?? ''}`
  if (d.type === 'tool_calls') {
    return (d.tool_calls ?? [])
      .map((call: any) => (call.function ? `${call.function.name}(${call.function.arguments}) → ${call.function.output ?? '…'}` : call.type))
      .join('; ')
  }
  return d.type ?? ''
}

/** One thread: its messages, and its runs with their steps (oldest first, as a conversation). */
export async function threadPage(ctx: AppContext, view: View, threadId: string) {
  const { id: projectId } = await chosenProject(ctx, view)
  const principal = inProject(view.admin, projectId)
  const { threads, messages, runs } = ctx.services.assistants
  const thread = await threads.get(principal, threadId, 'v2')
  const all = (await messages.list(principal, threadId, { limit: 100, order: 'asc' } as any, 'v2')).data as any[]
  const runList = (await runs.list(principal, threadId, { limit: 100, order: 'asc' }, 'v2')).data as any[]
  const steps = await Promise.all(runList.map(async (r) => (await runs.listSteps(principal, threadId, r.id, { limit: 100, order: 'asc' })).data as any[]))
  return (
    <Page title={`Thread ${thread.id}`} path="/dashboard/assistants" view={view}>
      <h1>
        Thread <code>{thread.id}</code>
      </h1>
      <p>
        <a href={`/dashboard/assistants?project=${projectId}`}>← Assistants</a> · created {date(thread.created_at)}
      </p>
      <h2>Messages</h2>
      <div id="messages">
        {all.map((m) => (
          <div class="msg" data-role={m.role}>
            <b>
              {m.role}
              {m.run_id ? ` · ${m.run_id}` : ''}
            </b>
            {text(m)}
          </div>
        ))}
      </div>
      <h2>Runs</h2>
      <div id="runs">
        {runList.map((r, i) => (
          <div class="panel" data-run={r.id}>
            <p>
              <code>{r.id}</code> · {r.assistant_id} · {r.model} · <b>{r.status}</b>
              {r.usage ? ` · ${r.usage.prompt_tokens} + ${r.usage.completion_tokens} tokens` : ''}
              {r.last_error ? <span class="err"> {r.last_error.message}</span> : null}
            </p>
            <ol>
              {steps[i].map((s) => (
                <li data-step={s.id}>
                  <code>{s.type}</code> {s.status}: {stepDetail(s)}
                </li>
              ))}
            </ol>
          </div>
        ))}
      </div>
      {runList.length ? null : <p class="muted">No runs on this thread.</p>}
    </Page>
  )
}
