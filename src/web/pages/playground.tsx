import type { Context } from 'hono'
import type { AppContext } from '../../context.js'
import { ApiError, invalidRequest } from '../../errors.js'
import { ChatCompletionCreateParams } from '../../schemas/chat.js'
import { validate } from '../../schemas/validation.js'
import { field, fields, type Dash, type Form as FormData } from '../dash.js'
import { Page } from '../layout.js'
import { Form, inProject, type View } from '../view.js'
import { STREAM_SCRIPT } from './playground-script.js'
import { playgroundStreamRoute } from './playground-stream.js'

export type Message = { role: string; content?: string | null; tool_calls?: { id: string; function: { name: string; arguments: string } }[]; tool_call_id?: string }

/** What the form holds between turns: the settings and the conversation so far (no system). */
export type Chat = {
  project: string
  model: string
  system: string
  temperature: string
  maxTokens: string
  tools: string
  messages: Message[]
}

const EXAMPLE_TOOLS = JSON.stringify(
  [{ type: 'function', function: { name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }],
  null,
  1,
)

function Turn(props: { m: Message }) {
  const { m } = props
  return (
    <div class={`msg ${m.role}`} data-role={m.role}>
      <b>{m.role === 'tool' ? `tool result (${m.tool_call_id})` : m.role}</b>
      {m.content ?? ''}
      {(m.tool_calls ?? []).map((call) => (
        <div class="tool-call">
          calls <code>{call.function.name}</code> with <code>{call.function.arguments}</code> <span class="muted">({call.id})</span>
        </div>
      ))}
    </div>
  )
}

type PlaygroundData = { chat: Chat; projects: { id: string; name: string }[]; models: { id: string }[] }

export async function playgroundData(ctx: AppContext, view: View, chat?: Partial<Chat>): Promise<PlaygroundData> {
  const models = ctx.providers.list().filter((m) => m.capabilities.chat)
  const projects = ((await ctx.services.admin.projects.list(view.admin, { limit: 100 })).data as any[]).filter((p) => p.status === 'active')
  const c: Chat = { project: projects[0]?.id ?? '', model: models[0]?.id ?? '', system: '', temperature: '1', maxTokens: '', tools: '', messages: [], ...chat }
  return { chat: c, projects, models }
}

/**
 * The playground's form: settings, the conversation so far (it travels in a hidden field) and the
 * next message. Posted as is without JavaScript; with it, the script below streams the answer and
 * swaps in the form the stream's last event carries. `error` is shown inside it then (a page
 * shows its error above).
 */
export function PlaygroundForm(props: { view: View; data: PlaygroundData; usage?: string; error?: string }) {
  const { view, data, usage } = props
  const c = data.chat
  const last = c.messages[c.messages.length - 1]
  const pending = last?.role === 'assistant' ? (last.tool_calls ?? []) : []
  return (
    <Form view={view} action="/dashboard/playground" id="pg">
      <input type="hidden" name="messages" value={JSON.stringify(c.messages)} />
      <div class="row">
        <label>
          Project
          <select name="project">
            {data.projects.map((p) => (
              <option value={p.id} selected={p.id === c.project}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Model
          <select name="model">
            {data.models.map((m) => (
              <option value={m.id} selected={m.id === c.model}>
                {m.id}
              </option>
            ))}
          </select>
        </label>
        <label>
          Temperature
          <input name="temperature" type="number" min={0} max={2} step="0.1" value={c.temperature} style="width:90px" />
        </label>
        <label>
          Max tokens
          <input name="max_tokens" type="number" min={1} value={c.maxTokens} placeholder="model's" style="width:110px" />
        </label>
      </div>
      <label class="muted">
        System prompt
        <textarea name="system" rows={2} placeholder="You are a helpful assistant.">
          {c.system}
        </textarea>
      </label>
      <details open={c.tools ? true : undefined}>
        <summary>Function tools (JSON array of OpenAI tools)</summary>
        <textarea name="tools" rows={5} placeholder={EXAMPLE_TOOLS}>
          {c.tools}
        </textarea>
      </details>
      <h2>Conversation</h2>
      <div id="conversation">
        {c.messages.length ? c.messages.map((m) => <Turn m={m} />) : <p class="muted">No messages yet.</p>}
      </div>
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      {usage ? (
        <p class="muted" id="usage">
          {usage}
        </p>
      ) : null}
      {pending.map((call) => (
        <label class="muted">
          Result of <code>{call.function.name}</code> ({call.id})
          <input type="hidden" name="tool_call_id" value={call.id} />
          <textarea name="tool_output" rows={2} placeholder='{"temperature": 21}'></textarea>
        </label>
      ))}
      <label class="muted">
        Your message
        <textarea name="prompt" rows={3} placeholder="Say something"></textarea>
      </label>
      <p class="row">
        <button type="submit">Send</button>
        <a href="/dashboard/playground">New conversation</a>
      </p>
    </Form>
  )
}

export async function playgroundPage(ctx: AppContext, view: View, chat?: Partial<Chat>, error?: string, usage?: string) {
  return (
    <Page title="Playground" path="/dashboard/playground" view={view} error={error}>
      <h1>Chat playground</h1>
      <PlaygroundForm view={view} data={await playgroundData(ctx, view, chat)} usage={usage} />
      <script dangerouslySetInnerHTML={{ __html: STREAM_SCRIPT }} />
    </Page>
  )
}

export function readChat(form: FormData): Chat {
  let messages: Message[]
  try {
    messages = JSON.parse(field(form, 'messages') || '[]')
    if (!Array.isArray(messages)) throw new Error()
  } catch {
    throw invalidRequest('The conversation in the form could not be read; start a new conversation.')
  }
  return {
    project: field(form, 'project'),
    model: field(form, 'model'),
    system: field(form, 'system'),
    temperature: field(form, 'temperature'),
    maxTokens: field(form, 'max_tokens'),
    tools: field(form, 'tools'),
    messages,
  }
}

/** The next request: system prompt, the conversation, tool results and the new message. */
export function nextRequest(chat: Chat, form: FormData) {
  const ids = fields(form, 'tool_call_id')
  const outputs = fields(form, 'tool_output')
  ids.forEach((id, i) => chat.messages.push({ role: 'tool', tool_call_id: id, content: outputs[i] ?? '' }))
  const prompt = field(form, 'prompt')
  if (prompt) chat.messages.push({ role: 'user', content: prompt })
  if (!chat.messages.length) throw invalidRequest('Write a message first.')
  let tools: unknown
  try {
    tools = chat.tools ? JSON.parse(chat.tools) : undefined
  } catch (error) {
    throw invalidRequest(`The tools are not valid JSON: ${(error as Error).message}.`, 'tools')
  }
  return validate(ChatCompletionCreateParams, {
    model: chat.model,
    messages: [...(chat.system ? [{ role: 'system', content: chat.system }] : []), ...chat.messages],
    temperature: chat.temperature === '' ? undefined : Number(chat.temperature),
    max_tokens: chat.maxTokens === '' ? undefined : Number(chat.maxTokens),
    tools,
  })
}

/** What a turn cost, under the conversation. */
export function usageLine(usage: { prompt_tokens: number; completion_tokens: number } | undefined, finish: string | null | undefined) {
  return usage ? `${usage.prompt_tokens} prompt + ${usage.completion_tokens} completion tokens · ${finish}` : undefined
}

export function playgroundRoutes(dash: Dash, ctx: AppContext) {
  dash.get('/dashboard/playground', (view) => playgroundPage(ctx, view))
  playgroundStreamRoute(dash, ctx)
  dash.post('/dashboard/playground', async (view, form, c: Context) => {
    const chat = readChat(form)
    const before = chat.messages.length
    try {
      const params = nextRequest(chat, form)
      const answer = await ctx.services.chat.create(inProject(view.admin, chat.project), params, { signal: c.req.raw.signal })
      const message = answer.choices[0]?.message as Message | undefined
      if (message) chat.messages.push({ role: 'assistant', content: message.content ?? null, ...(message.tool_calls?.length ? { tool_calls: message.tool_calls } : {}) })
      const usage = usageLine(answer.usage, answer.choices[0]?.finish_reason)
      return { page: await playgroundPage(ctx, view, chat, undefined, usage) }
    } catch (error) {
      if (!(error instanceof ApiError)) throw error
      // the turn that failed is not kept: sending again retries it
      chat.messages.length = before
      return { page: await playgroundPage(ctx, view, chat, error.message), status: error.status }
    }
  })
}
