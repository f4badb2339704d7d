import { CERT_A } from '../helpers/certificates.js'
import { ADMIN_KEY, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

/**
 * Real objects for the fuzz test's path parameters: a request whose ids exist reaches the
 * parsing and validation of its body and query, which a made-up id would stop at the 404.
 * Organization objects live in a project of their own, so that archiving it, changing its rate
 * limits or deleting its keys never touches the keys the test itself uses.
 */
export type Fixtures = {
  /** The id for a path parameter of an operation: `idFor('/threads/{thread_id}/runs', 'thread_id')`. */
  idFor(path: string, param: string): string
  /** Every id made here: "an id of another object type" for a path parameter. */
  all: string[]
  /** The tool call the waiting run asks an output for. */
  callId: string
  /** A part of the upload. */
  part: string
  /** A JSONL file of one valid chat line, purpose batch. */
  batchFile: string
  file: string
  assistant: string
  thread: string
  user: string
  project: string
}

export async function createFixtures(t: TestApp): Promise<Fixtures> {
  const call = async (method: string, path: string, body?: unknown, key = PROJECT_KEY) => {
    const headers: Record<string, string> = { authorization: `Bearer ${key}`, 'openai-beta': 'assistants=v2' }
    if (body !== undefined && !(body instanceof FormData)) headers['content-type'] = 'application/json'
    const res = await t.fetch(`http://plinth.test/v1${path}`, {
      method,
      headers,
      body: body instanceof FormData ? body : body === undefined ? undefined : JSON.stringify(body),
    })
    const json = (await res.json()) as any
    if (res.status !== 200) throw new Error(`fixture ${method} ${path}: ${res.status} ${JSON.stringify(json)}`)
    return json
  }
  const admin = (method: string, path: string, body?: unknown) => call(method, path, body, ADMIN_KEY)
  const upload = async (name: string, text: string, purpose: string) => {
    const form = new FormData()
    form.set('purpose', purpose)
    form.set('file', new Blob([text]), name)
    return (await call('POST', '/files', form)).id as string
  }

  const line = { custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: { model: 'test-echo', messages: [{ role: 'user', content: 'hi' }] } }
  const batchFile = await upload('fuzz.jsonl', JSON.stringify(line) + '\n', 'batch')
  const file = await upload('fuzz.txt', 'fuzz fixture', 'assistants')
  const batch = (await call('POST', '/batches', { input_file_id: batchFile, endpoint: '/v1/chat/completions', completion_window: '24h' })).id
  const upload_ = (await call('POST', '/uploads', { bytes: 4, filename: 'fuzz.txt', purpose: 'assistants', mime_type: 'text/plain' })).id
  const completion = (await call('POST', '/chat/completions', { model: 'test-echo', store: true, messages: [{ role: 'user', content: 'hi' }] })).id
  const assistant = (await call('POST', '/assistants', { model: 'test-echo', name: 'fuzz' })).id
  await call('POST', `/assistants/${assistant}/files`, { file_id: file }).catch(() => {})
  const thread = (await call('POST', '/threads', { messages: [{ role: 'user', content: 'hi' }] })).id
  const message = (await call('GET', `/threads/${thread}/messages`)).data[0].id
  const run = (await call('POST', `/threads/${thread}/runs`, { assistant_id: assistant })).id
  // a run waiting for tool outputs (test-scripted calls get_weather), for submit and cancel
  const weather = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }
  const caller = (await call('POST', '/assistants', { model: 'test-scripted', tools: [weather] })).id
  const actionThread = (await call('POST', '/threads', { messages: [{ role: 'user', content: 'what is the weather in Paris?' }] })).id
  const actionRun = (await call('POST', `/threads/${actionThread}/runs`, { assistant_id: caller })).id
  const callId = await waitFor(async () => {
    const run = await call('GET', `/threads/${actionThread}/runs/${actionRun}`)
    return run.required_action?.submit_tool_outputs.tool_calls[0].id
  }, 'the fixture run asked for no tool output')
  const part = (await call('POST', `/uploads/${upload_}/parts`, partForm())).id
  const step = await waitForStep(() => call('GET', `/threads/${thread}/runs/${run}/steps`))

  const project = (await admin('POST', '/organization/projects', { name: 'Fuzz' })).id
  const invite = await admin('POST', '/organization/invites', { email: 'fuzz@example.com', role: 'reader' })
  const accepted = await call('POST', `/organization/invites/${invite.id}/accept`, { token: invite.accept_token }, '')
  const user = accepted.user.id
  const pending = (await admin('POST', '/organization/invites', { email: 'pending@example.com', role: 'reader' })).id
  await admin('POST', `/organization/projects/${project}/users`, { user_id: user, role: 'member' })
  const account = await admin('POST', `/organization/projects/${project}/service_accounts`, { name: 'fuzz' })
  const adminKey = (await admin('POST', '/organization/admin_api_keys', { name: 'fuzz' })).id
  const rateLimit = (await admin('GET', `/organization/projects/${project}/rate_limits`)).data[0].id
  const certificate = (await admin('POST', '/organization/certificates', { certificate: CERT_A.pem, name: 'fuzz' })).id

  const byName: Record<string, string> = {
    model: 'test-echo',
    completion_id: completion,
    file_id: file,
    upload_id: upload_,
    batch_id: batch,
    assistant_id: assistant,
    thread_id: thread,
    message_id: message,
    run_id: run,
    step_id: step,
    project_id: project,
    user_id: user,
    invite_id: pending,
    service_account_id: account.id,
    rate_limit_id: rateLimit,
    certificate_id: certificate,
  }
  return {
    idFor(path, param) {
      const waiting = /\/runs\/\{run_id\}\/(submit_tool_outputs|cancel)$/.test(path)
      if (waiting && param === 'thread_id') return actionThread
      if (waiting && param === 'run_id') return actionRun
      if (param === 'key_id') return path.includes('admin_api_keys') ? adminKey : account.api_key.id
      return byName[param] ?? `${param.replace(/_id$/, '')}_fuzz`
    },
    all: [...Object.values(byName).filter((id) => id !== 'test-echo'), adminKey, account.api_key.id],
    callId,
    part,
    batchFile,
    file,
    assistant,
    thread,
    user,
    project,
  }
}

/** A run of test-echo finishes in a few ms; its message creation step is then listed. */
function waitForStep(list: () => Promise<any>): Promise<string> {
  return waitFor(async () => (await list()).data[0]?.id, 'the fixture run made no step')
}

async function waitFor<T>(get: () => Promise<T | undefined>, failure: string): Promise<T> {
  for (let i = 0; i < 250; i++) {
    const value = await get()
    if (value !== undefined) return value
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(failure)
}

function partForm(): FormData {
  const form = new FormData()
  form.set('data', new Blob(['fuzz']), 'part')
  return form
}
