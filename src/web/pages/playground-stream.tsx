import type { AppContext } from '../../context.js'
import { chunkObjects } from '../../domain/inference/serialized.js'
import { toApiError } from '../../http/render-error.js'
import { streamSSE } from 'hono/streaming'
import type { Dash } from '../dash.js'
import { inProject } from '../view.js'
import { nextRequest, playgroundData, PlaygroundForm, readChat, usageLine, type Message } from './playground.js'

type ToolCall = NonNullable<Message['tool_calls']>[number] & { type: 'function' }

/** A streamed answer put back together: its text, its tool calls (by index), finish and usage. */
class StreamedAnswer {
  private content = ''
  private calls: ToolCall[] = []
  finish?: string
  usage?: { prompt_tokens: number; completion_tokens: number }

  /** Takes one chunk; returns the text it adds, if any. */
  add(chunk: any): string {
    if (chunk.usage) this.usage = chunk.usage
    const choice = chunk.choices?.[0]
    if (!choice) return ''
    if (choice.finish_reason) this.finish = choice.finish_reason
    for (const part of choice.delta?.tool_calls ?? []) {
      const call = (this.calls[part.index ?? 0] ??= { id: '', type: 'function', function: { name: '', arguments: '' } })
      if (part.id) call.id = part.id
      if (part.function?.name) call.function.name += part.function.name
      if (part.function?.arguments) call.function.arguments += part.function.arguments
    }
    const text = choice.delta?.content
    if (typeof text !== 'string' || !text) return ''
    this.content += text
    return text
  }

  message(): Message {
    const calls = this.calls.filter(Boolean)
    return { role: 'assistant', content: this.content === '' && calls.length ? null : this.content, ...(calls.length ? { tool_calls: calls } : {}) }
  }
}

/**
 * POST /dashboard/playground/stream: the playground's turn as Server-Sent Events, for its script.
 * A dashboard POST like any other (session, CSRF token and Origin checked by dash.post), it
 * streams the chat service's chunks as `delta` events, then sends `done` with the form to show
 * next: the conversation with the new turn kept, or as it was with the error.
 */
export function playgroundStreamRoute(dash: Dash, ctx: AppContext) {
  dash.post('/dashboard/playground/stream', async (view, form, c) => {
    const chat = readChat(form)
    const before = chat.messages.length
    const render = async (usage?: string, error?: string) =>
      String(await (<PlaygroundForm view={view} data={await playgroundData(ctx, view, chat)} usage={usage} error={error} />).toString())
    const response = streamSSE(c, async (stream) => {
      try {
        const params = { ...nextRequest(chat, form), stream: true, stream_options: { include_usage: true } }
        const answer = new StreamedAnswer()
        for await (const chunk of chunkObjects(ctx.services.chat.chunks(inProject(view.admin, chat.project), params, { signal: c.req.raw.signal }))) {
          const text = answer.add(chunk)
          if (text) await stream.writeSSE({ event: 'delta', data: JSON.stringify({ content: text }) })
        }
        chat.messages.push(answer.message())
        await stream.writeSSE({ event: 'done', data: JSON.stringify({ html: await render(usageLine(answer.usage, answer.finish)) }) })
      } catch (error) {
        if (stream.aborted) return
        // the turn that failed is not kept: sending again retries it
        chat.messages.length = before
        const message = toApiError(error, c.var.requestId ?? '').message
        await stream.writeSSE({ event: 'done', data: JSON.stringify({ html: await render(undefined, message) }) })
      }
    })
    return { response }
  })
}
