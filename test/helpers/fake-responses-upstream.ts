import http from 'node:http'
import type { AddressInfo } from 'node:net'

/** A request the fake received: its path, authorization and JSON body. */
export type ResponsesRequest = { path: string; authorization?: string; body: Record<string, unknown> }

export type FakeResponsesUpstream = {
  baseURL: string
  requests: ResponsesRequest[]
  close(): Promise<void>
}

/**
 * An upstream that serves OpenAI's Responses API (`POST /v1/responses`), as OpenAI does: it
 * answers "You said: <the last user text>" (its own resp_/msg_ ids, its own model name), whole or
 * streamed as OpenAI's events, and keeps every request for the test to read. A last user text of
 * "refuse" is a 400 in OpenAI's error shape.
 */
export async function startFakeResponsesUpstream(): Promise<FakeResponsesUpstream> {
  const requests: ResponsesRequest[] = []
  const server = http.createServer((req, res) => {
    let raw = ''
    req.on('data', (chunk) => (raw += chunk))
    req.on('end', () => {
      const body = JSON.parse(raw || '{}') as Record<string, unknown>
      requests.push({ path: req.url ?? '', authorization: req.headers.authorization, body })
      if (req.method !== 'POST' || req.url !== '/v1/responses') {
        res.writeHead(404, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: { message: 'Not found', type: 'invalid_request_error', param: null, code: null } }))
        return
      }
      const said = lastUserText(body.input)
      if (said === 'refuse') {
        res.writeHead(400, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: { message: 'Upstream refused this.', type: 'invalid_request_error', param: 'input', code: null } }))
        return
      }
      const text = `You said: ${said}`
      const message = { id: 'msg_upstream1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] }
      const response = (status: string, output: unknown[], usage: unknown) => ({
        id: 'resp_upstream1',
        object: 'response',
        created_at: 1700000000,
        status,
        error: null,
        incomplete_details: null,
        instructions: body.instructions ?? null,
        max_output_tokens: null,
        model: `${String(body.model)}-2025-01-01`,
        output,
        parallel_tool_calls: true,
        previous_response_id: null,
        reasoning: { effort: null, summary: null },
        store: false,
        temperature: 1,
        text: { format: { type: 'text' } },
        tool_choice: 'auto',
        tools: body.tools ?? [],
        top_p: 1,
        truncation: 'disabled',
        ...(usage ? { usage } : {}),
        metadata: {},
      })
      const usage = { input_tokens: 11, input_tokens_details: { cached_tokens: 0 }, output_tokens: 4, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 15 }
      if (!body.stream) {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify(response('completed', [message], usage)))
        return
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      let seq = 0
      const send = (type: string, fields: Record<string, unknown>) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...fields })}\n\n`)
      const where = { item_id: message.id, output_index: 0, content_index: 0 }
      send('response.created', { response: response('in_progress', [], null) })
      send('response.in_progress', { response: response('in_progress', [], null) })
      send('response.output_item.added', { output_index: 0, item: { ...message, status: 'in_progress', content: [] } })
      send('response.content_part.added', { ...where, part: { type: 'output_text', text: '', annotations: [] } })
      for (const word of text.split(/(?= )/)) send('response.output_text.delta', { ...where, delta: word, logprobs: [] })
      send('response.output_text.done', { ...where, text, logprobs: [] })
      send('response.content_part.done', { ...where, part: message.content[0] })
      send('response.output_item.done', { output_index: 0, item: message })
      send('response.completed', { response: response('completed', [message], usage) })
      res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** The text of the last user message of a Responses input. */
function lastUserText(input: unknown): string {
  if (typeof input === 'string') return input
  const messages = (input as { type?: string; role?: string; content?: unknown }[]).filter((item) => item.role === 'user')
  const content = messages.at(-1)?.content
  if (typeof content === 'string') return content
  return ((content as { type: string; text?: string }[] | undefined) ?? []).map((part) => part.text ?? '').join('')
}
