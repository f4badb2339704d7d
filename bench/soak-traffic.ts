// The soak benchmark's traffic: the scenarios an app runs against Plinth through the official SDK,
// each a few API calls whose answers are checked, on the built-in test models.
import type OpenAI from 'openai'
import { toFile } from 'openai'
import type { ChatCompletionFunctionTool, ChatCompletionMessageParam } from 'openai/resources/chat/completions'
import type { Recorder } from './soak-stats.js'

export type Scenario = { name: string; weight: number; run(): Promise<void> }

const WORDS = (
  'the server keeps every request in bounds while batches runs and files move through it quietly ' +
  'weather paris spring river bridge garden lamp window morning evening coffee letter market ' +
  'númber café façade naïve résumé 東京 数据 🙂 ok'
).split(' ')

/** A small seeded generator, so that two soak runs send the same traffic. */
export function random(seed: number) {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1))
  const text = (minWords: number, maxWords: number) =>
    Array.from({ length: int(minWords, maxWords) }, () => WORDS[int(0, WORDS.length - 1)]).join(' ')
  return { next, int, text }
}

const WEATHER: ChatCompletionFunctionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city.',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
      required: ['city'],
      additionalProperties: false,
    },
  },
}

export type Assistants = { plain: string; tools: string }

/** The assistants the run scenarios use, made once at the start. */
export async function createAssistants(client: OpenAI): Promise<Assistants> {
  const plain = await client.beta.assistants.create({ model: 'test-scripted', name: 'soak plain', instructions: 'Answer briefly.' })
  const tools = await client.beta.assistants.create({
    model: 'test-scripted',
    name: 'soak tools',
    instructions: 'Use the tools.',
    tools: [{ type: 'function', function: WEATHER.function }],
  })
  return { plain: plain.id, tools: tools.id }
}

export function scenarios(client: OpenAI, rec: Recorder, assistants: Assistants, seed: number): Scenario[] {
  const rnd = random(seed)
  let fileNo = 0

  async function echo(stream: boolean) {
    // mostly short chats, now and then a long one (a few thousand tokens)
    const long = rnd.next() < 0.05
    const content = long ? rnd.text(1000, 3000) : rnd.text(5, 200)
    const size = long ? ' (1-3k-token prompt)' : ''
    const messages: ChatCompletionMessageParam[] = [
      { role: 'system', content: 'You are the soak test.' },
      { role: 'user', content },
    ]
    if (!stream) {
      const op = `chat test-echo${size}`
      const answer = await rec.time(op, () => client.chat.completions.create({ model: 'test-echo', messages }))
      rec.check(answer.choices[0]?.message.content === content, op, 'the echo differs from the message')
      rec.check(answer.usage && answer.usage.completion_tokens > 0, op, 'no usage')
      return
    }
    const op = `chat test-echo stream${size}`
    await rec.time(op, async () => {
      const chunks = await client.chat.completions.create({ model: 'test-echo', messages, stream: true, stream_options: { include_usage: true } })
      let text = ''
      let usage = false
      for await (const chunk of chunks) {
        text += chunk.choices[0]?.delta.content ?? ''
        if (chunk.usage) usage = true
      }
      rec.check(text === content, op, 'the streamed echo differs from the message')
      rec.check(usage, op, 'no usage chunk')
    })
  }

  /** The agent loop: the model calls a tool, the app answers it, the model answers the result. */
  async function tools(stream: boolean) {
    const city = ['Paris', 'Lyon', 'Tokyo', 'Lima'][rnd.int(0, 3)]
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: `Please get weather for ${city}, ${rnd.text(3, 30)}` }]
    const op = stream ? 'chat test-scripted tools stream' : 'chat test-scripted tools'
    let call: { id: string; name: string; arguments: string; content: string | null }
    if (!stream) {
      const answer = await rec.time(op, () => client.chat.completions.create({ model: 'test-scripted', messages, tools: [WEATHER] }))
      const choice = answer.choices[0]
      const toolCall = choice?.message.tool_calls?.[0]
      rec.check(choice?.finish_reason === 'tool_calls' && toolCall?.type === 'function', op, `finish_reason ${choice?.finish_reason}`)
      call = { id: toolCall.id, name: toolCall.function.name, arguments: toolCall.function.arguments, content: choice.message.content }
    } else {
      call = await rec.time(op, async () => {
        const chunks = await client.chat.completions.create({ model: 'test-scripted', messages, tools: [WEATHER], stream: true })
        const got = { id: '', name: '', arguments: '', content: null as string | null }
        let finish: string | null = null
        for await (const chunk of chunks) {
          const delta = chunk.choices[0]?.delta
          for (const part of delta?.tool_calls ?? []) {
            if (part.index !== 0) continue
            got.id += part.id ?? ''
            got.name += part.function?.name ?? ''
            got.arguments += part.function?.arguments ?? ''
          }
          finish = chunk.choices[0]?.finish_reason ?? finish
        }
        rec.check(finish === 'tool_calls', op, `finish_reason ${finish}`)
        return got
      })
    }
    rec.check(call.name === 'get_weather', op, `called ${call.name}`)
    let args: { city?: unknown }
    try {
      args = JSON.parse(call.arguments)
    } catch {
      rec.fail(op, new Error(`arguments are not JSON: ${call.arguments}`))
    }
    rec.check(typeof args.city === 'string', op, 'no city in the arguments')
    // the assistant message as the app sends it back: only the request's own fields
    messages.push(
      { role: 'assistant', content: call.content, tool_calls: [{ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }] },
      { role: 'tool', tool_call_id: call.id, content: JSON.stringify({ city, temperature: rnd.int(-5, 35) }) },
    )
    const final = await rec.time(`${op} (tool result)`, () => client.chat.completions.create({ model: 'test-scripted', messages, tools: [WEATHER] }))
    rec.check(final.choices[0]?.message.content?.startsWith('Tool results: get_weather'), `${op} (tool result)`, String(final.choices[0]?.message.content))
  }

  async function legacyCompletion(stream: boolean) {
    const prompt = rnd.text(5, 150)
    if (!stream) {
      const op = 'completions test-echo'
      // max_tokens, as the endpoint's default is 16
      const answer = await rec.time(op, () => client.completions.create({ model: 'test-echo', prompt, max_tokens: 1024 }))
      rec.check(answer.choices[0]?.text === prompt, op, 'the echo differs from the prompt')
      return
    }
    const op = 'completions test-echo stream'
    await rec.time(op, async () => {
      let text = ''
      for await (const chunk of await client.completions.create({ model: 'test-echo', prompt, max_tokens: 1024, stream: true })) text += chunk.choices[0]?.text ?? ''
      rec.check(text === prompt, op, 'the streamed echo differs from the prompt')
    })
  }

  async function embeddings() {
    const op = 'embeddings test-embed'
    const input = Array.from({ length: rnd.int(1, 16) }, () => rnd.text(3, 120))
    const dimensions = rnd.next() < 0.5 ? 256 : undefined
    const answer = await rec.time(op, () => client.embeddings.create({ model: 'test-embed', input, ...(dimensions ? { dimensions } : {}) }))
    rec.check(answer.data.length === input.length, op, `${answer.data.length} embeddings for ${input.length} inputs`)
    if (dimensions) rec.check(answer.data[0].embedding.length === dimensions, op, 'wrong dimensions')
  }

  async function files() {
    const large = rnd.next() < 0.1
    const size = large ? rnd.int(256 * 1024, 2 * 1024 * 1024) : rnd.int(1, 64 * 1024)
    const body = Buffer.alloc(size, `${rnd.text(20, 40)}\n`)
    const name = `soak-${++fileNo}.txt`
    const file = await rec.time(large ? 'files.create (256 KiB-2 MiB)' : 'files.create', async () => client.files.create({ file: await toFile(body, name), purpose: 'user_data' }))
    rec.check(file.bytes === size && file.filename === name, 'files.create', `bytes ${file.bytes}, expected ${size}`)
    const page = await rec.time('files.list', () => client.files.list({ purpose: 'user_data', limit: 20 }))
    rec.check(Array.isArray(page.data), 'files.list', 'no data')
    const got = await rec.time('files.retrieve', () => client.files.retrieve(file.id))
    rec.check(got.id === file.id && got.bytes === size, 'files.retrieve', 'another file')
    const content = await rec.time(large ? 'files.content (256 KiB-2 MiB)' : 'files.content', async () => Buffer.from(await (await client.files.content(file.id)).arrayBuffer()))
    rec.check(content.equals(body), 'files.content', `downloaded ${content.length} bytes, sent ${size}`)
    const deleted = await rec.time('files.delete', () => client.files.delete(file.id))
    rec.check(deleted.deleted, 'files.delete', 'not deleted')
  }

  async function run(withTools: boolean) {
    const op = withTools ? 'run with tool call' : 'run'
    const content = withTools ? `Please get weather for Paris, ${rnd.text(3, 30)}` : rnd.text(5, 100)
    const thread = await rec.time('threads.create', () => client.beta.threads.create({ messages: [{ role: 'user', content }] }))
    let state = await rec.time(`${op}: create → first stop (polled)`, () =>
      client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: withTools ? assistants.tools : assistants.plain }, { pollIntervalMs: 100 }),
    )
    if (withTools) {
      const calls = state.required_action?.submit_tool_outputs.tool_calls ?? []
      rec.check(state.status === 'requires_action' && calls.length > 0, op, `status ${state.status}`)
      const tool_outputs = calls.map((c) => ({ tool_call_id: c.id, output: JSON.stringify({ temperature: rnd.int(-5, 35) }) }))
      state = await rec.time(`${op}: submit tool outputs → completed (polled)`, () =>
        client.beta.threads.runs.submitToolOutputsAndPoll(state.id, { thread_id: thread.id, tool_outputs }, { pollIntervalMs: 100 }),
      )
    }
    rec.check(state.status === 'completed', op, `status ${state.status} ${JSON.stringify(state.last_error)}`)
    const messages = await rec.time('threads.messages.list', () => client.beta.threads.messages.list(thread.id))
    rec.check(messages.data.length === 2 && messages.data[0].role === 'assistant', 'threads.messages.list', `${messages.data.length} messages`)
    const steps = await rec.time('threads.runs.steps.list', () => client.beta.threads.runs.steps.list(state.id, { thread_id: thread.id }))
    rec.check(steps.data.length === (withTools ? 2 : 1), 'threads.runs.steps.list', `${steps.data.length} steps`)
    await rec.time('threads.delete', () => client.beta.threads.delete(thread.id))
  }

  async function streamedRun() {
    const op = 'run streamed: create → completed'
    const thread = await rec.time('threads.create', () => client.beta.threads.create({ messages: [{ role: 'user', content: rnd.text(5, 100) }] }))
    const final = await rec.time(op, () => client.beta.threads.runs.stream(thread.id, { assistant_id: assistants.plain }).finalRun())
    rec.check(final.status === 'completed', op, `status ${final.status}`)
    await rec.time('threads.delete', () => client.beta.threads.delete(thread.id))
  }

  return [
    { name: 'chat', weight: 20, run: () => echo(false) },
    { name: 'chat stream', weight: 15, run: () => echo(true) },
    { name: 'chat tools', weight: 8, run: () => tools(false) },
    { name: 'chat tools stream', weight: 6, run: () => tools(true) },
    { name: 'completions', weight: 6, run: () => legacyCompletion(false) },
    { name: 'completions stream', weight: 4, run: () => legacyCompletion(true) },
    { name: 'embeddings', weight: 12, run: embeddings },
    { name: 'files', weight: 6, run: files },
    { name: 'run', weight: 4, run: () => run(false) },
    { name: 'run tools', weight: 3, run: () => run(true) },
    { name: 'run streamed', weight: 3, run: streamedRun },
  ]
}

/** Picks scenarios by weight. */
export function picker(list: Scenario[], seed: number) {
  const rnd = random(seed)
  const total = list.reduce((sum, s) => sum + s.weight, 0)
  return () => {
    let at = rnd.next() * total
    for (const s of list) if ((at -= s.weight) < 0) return s
    return list[list.length - 1]
  }
}

type BatchEndpoint = '/v1/chat/completions' | '/v1/completions' | '/v1/embeddings'
const ENDPOINTS: BatchEndpoint[] = ['/v1/chat/completions', '/v1/embeddings', '/v1/completions']

function batchLine(endpoint: BatchEndpoint, i: number, text: string) {
  const body =
    endpoint === '/v1/embeddings'
      ? { model: 'test-embed', input: text }
      : endpoint === '/v1/completions'
        ? { model: 'test-echo', prompt: text, max_tokens: 1024 }
        : { model: 'test-echo', messages: [{ role: 'user', content: text }] }
  return JSON.stringify({ custom_id: `line-${i}`, method: 'POST', url: endpoint, body })
}

/**
 * Batches: a small one created every `everyMs`, left to run while the rest of the traffic goes
 * on, checked when it ends (every line answered 200), its files then deleted.
 */
export function batches(client: OpenAI, rec: Recorder, seed: number) {
  const rnd = random(seed)
  const active = new Map<string, { lines: number; inputFileId: string; since: number }>()
  let created = 0
  let completed = 0
  let lines = 0

  async function create() {
    const endpoint = ENDPOINTS[created % ENDPOINTS.length]
    const count = rnd.int(20, 120)
    const jsonl = Array.from({ length: count }, (_, i) => batchLine(endpoint, i, rnd.text(5, 80))).join('\n') + '\n'
    const file = await rec.time('batch input files.create', async () => client.files.create({ file: await toFile(Buffer.from(jsonl), `soak-batch-${created}.jsonl`), purpose: 'batch' }))
    const batch = await rec.time('batches.create', () => client.batches.create({ input_file_id: file.id, endpoint, completion_window: '24h' }))
    created++
    active.set(batch.id, { lines: count, inputFileId: file.id, since: Date.now() })
  }

  async function check() {
    for (const [id, { lines: count, inputFileId, since }] of active) {
      const batch = await rec.time('batches.retrieve', () => client.batches.retrieve(id))
      if (!['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) continue
      active.delete(id)
      // its lines ran in the server meanwhile: a span for matching with stalls, not a latency
      rec.spans.push({ op: 'a batch running (created → seen ended)', start: since, end: Date.now() })
      const op = 'batch'
      rec.check(batch.status === 'completed', op, `batch ${id} ended ${batch.status}: ${JSON.stringify(batch.errors)}`)
      rec.check(batch.request_counts?.completed === count && batch.request_counts.failed === 0, op, `counts ${JSON.stringify(batch.request_counts)}`)
      const output = await rec.time('batch output files.content', async () => (await client.files.content(batch.output_file_id!)).text())
      const results = output.trim().split('\n').map((l) => JSON.parse(l))
      rec.check(results.length === count && results.every((r) => r.response?.status_code === 200), op, 'output lines missing or not 200')
      await rec.time('files.delete', () => client.files.delete(batch.output_file_id!))
      await rec.time('files.delete', () => client.files.delete(inputFileId))
      completed++
      lines += count
    }
    await rec.time('batches.list', () => client.batches.list({ limit: 10 }))
  }

  return {
    create,
    check,
    pending: () => active.size,
    summary: () => ({ created, completed, lines }),
  }
}
