import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createStartingServer, serveApp } from '../../src/app.js'
import { adminClient, newProjectKey } from '../helpers/admin.js'
import { closeRealtimeClients, connect as connectTo, type Event } from '../helpers/realtime.js'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'
import { setLogFormat, setLogLevel } from '../../src/logger.js'

// The Realtime API through the official SDK's beta client (OpenAIRealtimeWS): the two session
// endpoints, the socket's text conversation, function calls, cancel, error events and every
// refusal of the upgrade. Each server event is checked against its spec schema.

let t: TestApp
let port: number

beforeAll(async () => {
  t = await createTestApp({}, { transport: 'http' })
  port = Number(new URL(t.url).port)
})
afterAll(async () => {
  closeRealtimeClients()
  await t?.close()
})

const connect = (key = PROJECT_KEY, model = 'test-echo') => connectTo(t, key, model)

/** A restricted key of the default project that may chat but not use the Realtime API. */
async function chatOnlyKey() {
  const { projectId } = await t.ctx.services.keys.authenticate(PROJECT_KEY)
  return newProjectKey(t, projectId!, { mode: 'restricted', scopes: { chat: 'write' } })
}

/** The HTTP status of a refused upgrade, and OpenAI's error body. */
function refused(path: string, headers: Record<string, string>, protocols?: string[]) {
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, protocols, { headers })
    socket.on('unexpected-response', (_request, response) => {
      let text = ''
      response.on('data', (chunk) => (text += chunk))
      response.on('end', () => resolve({ status: response.statusCode!, body: JSON.parse(text) }))
    })
    socket.on('open', () => reject(new Error('the upgrade was accepted')))
    socket.on('error', () => {})
  })
}

describe('POST /v1/realtime/sessions and /v1/realtime/transcription_sessions', () => {
  it('answers the session with an ephemeral key that opens the socket with its configuration', async () => {
    const session = await t.client().beta.realtime.sessions.create({ model: 'test-echo' as never, modalities: ['text'], instructions: 'Be brief.' })
    expect(session.client_secret.value).toMatch(/^ek_/)
    const now = Date.now() / 1000
    expect(session.client_secret.expires_at).toBeGreaterThan(now + 50)
    expect(session.client_secret.expires_at).toBeLessThan(now + 70)
    expect(session).toMatchObject({ object: 'realtime.session', modalities: ['text'], instructions: 'Be brief.' })
    // the secret itself is kept nowhere: only its hash
    expect(JSON.stringify(await t.ctx.storage.db.selectFrom('realtime_client_secrets').selectAll().execute())).not.toContain(session.client_secret.value)

    const c = connect(session.client_secret.value)
    await c.opened
    const created = await c.next('session.created')
    expect(created.session).toMatchObject({ model: 'test-echo', instructions: 'Be brief.', modalities: ['text'] })
    c.rt.close()
  })

  it('takes client_secret.expires_after and refuses what the spec refuses', async () => {
    const session = await t.client().beta.realtime.sessions.create({ model: 'test-echo' as never, client_secret: { expires_after: { anchor: 'created_at', seconds: 600 } }, turn_detection: { type: 'server_vad' } })
    expect(session.client_secret.expires_at).toBeGreaterThan(Date.now() / 1000 + 590)
    // server VAD, what was left out filled with OpenAI's documented defaults
    expect(session.turn_detection).toEqual({ type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500, create_response: true, interrupt_response: true })
    // none asked: OpenAI's default session's; null turns it off
    const plain = await t.client().beta.realtime.sessions.create({ model: 'test-echo' as never })
    expect(plain.turn_detection).toEqual({ type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 200, create_response: true, interrupt_response: true })
    const off = await t.client().beta.realtime.sessions.create({ model: 'test-echo' as never, turn_detection: null as never })
    expect(off.turn_detection).toBeUndefined()
    const c = connect(off.client_secret.value)
    expect((await c.next('session.created')).session.turn_detection).toBeUndefined()
    c.rt.close()
    const semantic = await t.client().beta.realtime.sessions.create({ model: 'test-echo' as never, turn_detection: { type: 'semantic_vad' } }).catch((e) => e)
    expect(semantic.status).toBe(400)
    expect(semantic.error).toMatchObject({ code: 'unsupported_value', param: 'turn_detection.type' })
    expect(semantic.error.message).toContain('semantic_vad')
    const bad = await t.client().beta.realtime.sessions.create({ model: 'test-echo' as never, modalities: ['video'] as never }).catch((e) => e)
    expect(bad.status).toBe(400)
    expect(bad.error).toMatchObject({ type: 'invalid_request_error', param: 'modalities[0]' })
    const unknown = await t.client().beta.realtime.sessions.create({ model: 'test-echo' as never, colour: 'red' } as never).catch((e) => e)
    expect(unknown.error).toMatchObject({ code: 'unknown_parameter', param: 'colour' })
    const missing = await t.client().beta.realtime.sessions.create({ model: 'no-such-model' as never }).catch((e) => e)
    expect(missing.status).toBe(404)
    expect(missing.error.code).toBe('model_not_found')
  })

  it('creates a transcription session', async () => {
    const session = await t.client().beta.realtime.transcriptionSessions.create({ input_audio_format: 'pcm16', input_audio_transcription: { model: 'whisper-1' } })
    expect(session.client_secret.value).toMatch(/^ek_/)
    expect(session).toMatchObject({ input_audio_format: 'pcm16', input_audio_transcription: { model: 'whisper-1' } })
    expect(session.turn_detection).toEqual({ type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 200 })
    const chat = await t.client().beta.realtime.transcriptionSessions.create({ input_audio_transcription: { model: 'test-echo' as never } }).catch((e) => e)
    expect(chat.status).toBe(400)
    expect(chat.error).toMatchObject({ code: 'invalid_value', param: 'input_audio_transcription.model' })
    const unknown = await t.client().beta.realtime.transcriptionSessions.create({ input_audio_transcription: { model: 'no-such-model' as never } }).catch((e) => e)
    expect(unknown.status).toBe(404)
  })

  it('refuses admin keys, no key and keys without the realtime scope', async () => {
    const admin = await t.client(ADMIN_KEY).beta.realtime.sessions.create({ model: 'test-echo' as never }).catch((e) => e)
    expect(admin.status).toBe(403)
    const none = await t.fetch('http://plinth.test/v1/realtime/sessions', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
    expect(none.status).toBe(401)
    const narrow = await t.client(await chatOnlyKey()).beta.realtime.sessions.create({ model: 'test-echo' as never }).catch((e) => e)
    expect(narrow.status).toBe(401)
    expect(narrow.message).toContain('api.realtime.write')
  })
})

describe('the socket: a text conversation', () => {
  it('answers a user message with the response events, usage included, and the item joins the conversation', async () => {
    const c = connect()
    await c.next('session.created')
    c.rt.send({ type: 'session.update', session: { instructions: 'You echo.', modalities: ['text'] } })
    expect((await c.next('session.updated')).session.instructions).toBe('You echo.')
    c.rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Say hello' }] } })
    const userItem = (await c.next('conversation.item.created')).item
    expect(userItem).toMatchObject({ object: 'realtime.item', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Say hello' }] })
    const mark = c.events.length
    c.rt.send({ type: 'response.create' })
    const done = await c.next('response.done')
    const types = c.since(mark).map((e) => e.type)
    expect(types[0]).toBe('response.created')
    expect(types).toEqual(expect.arrayContaining(['response.output_item.added', 'conversation.item.created', 'response.content_part.added', 'response.text.delta', 'response.text.done', 'response.content_part.done', 'response.output_item.done']))
    const text = c.since(mark).filter((e) => e.type === 'response.text.delta').map((e) => e.delta).join('')
    expect(text).toBe('Say hello')
    expect(done.response.status).toBe('completed')
    expect(done.response.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'text', text: 'Say hello' }] })
    expect(done.response.usage.input_tokens).toBeGreaterThan(0)
    expect(done.response.usage.output_tokens).toBeGreaterThan(0)
    expect(done.response.usage.total_tokens).toBe(done.response.usage.input_tokens + done.response.usage.output_tokens)
    // usage is recorded as for chat: the response's tokens, on the session's model
    await t.ctx.services.usage.settled()
    const rows = await t.ctx.storage.db.selectFrom('usage_records').selectAll().where('model', '=', 'test-echo').execute()
    expect(rows.some((row) => row.input_tokens === done.response.usage.input_tokens && row.output_tokens === done.response.usage.output_tokens)).toBe(true)
    // the assistant's item is in the conversation: retrievable
    c.rt.send({ type: 'conversation.item.retrieve', item_id: done.response.output[0].id })
    expect((await c.next('conversation.item.retrieved')).item.content[0].text).toBe('Say hello')
    c.rt.close()
  })

  it('calls a function, takes its output and answers', async () => {
    const tool = { type: 'function' as const, name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }
    const c = connect(PROJECT_KEY, 'test-scripted')
    await c.next('session.created')
    c.rt.send({ type: 'session.update', session: { tools: [tool], tool_choice: 'auto' } })
    await c.next('session.updated')
    c.rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is the weather in Paris?' }] } })
    await c.next('conversation.item.created')
    c.rt.send({ type: 'response.create' })
    const args = await c.next('response.function_call_arguments.done')
    expect(args.name).toBe('get_weather')
    expect(JSON.parse(args.arguments)).toMatchObject({ city: 'Paris' })
    const done = await c.next('response.done')
    const call = done.response.output[0]
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', call_id: args.call_id, status: 'completed' })
    c.rt.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: call.call_id, output: '{"temperature": 21}' } })
    await c.next('conversation.item.created')
    c.rt.send({ type: 'response.create', response: { tool_choice: 'none' } })
    const second = await c.next('response.done')
    expect(second.response.status).toBe('completed')
    expect(second.response.output[0].type).toBe('message')
    c.rt.close()
  })

  it('places, deletes and retrieves items; answers out of band; stops at max_response_output_tokens', async () => {
    const c = connect()
    await c.next('session.created')
    c.rt.send({ type: 'session.update', session: { modalities: ['text'] } })
    await c.next('session.updated')
    const user = (text: string, id?: string, previous?: string) =>
      c.rt.send({ type: 'conversation.item.create', ...(previous ? { previous_item_id: previous } : {}), item: { id, type: 'message', role: 'user', content: [{ type: 'input_text', text }] } })
    user('first words here', 'item_a')
    await c.next('conversation.item.created')
    user('second', 'item_b')
    await c.next('conversation.item.created')
    // placed after item_a, before item_b: the last user message is still 'second'
    user('the words placed in between', 'item_c', 'item_a')
    expect((await c.next('conversation.item.created')).previous_item_id).toBe('item_a')
    user('again', 'item_a')
    expect((await c.next('error')).error.code).toBe('item_already_exists')
    c.rt.send({ type: 'conversation.item.delete', item_id: 'item_b' })
    expect((await c.next('conversation.item.deleted')).item_id).toBe('item_b')
    c.rt.send({ type: 'conversation.item.retrieve', item_id: 'item_b' })
    expect((await c.next('error')).error.code).toBe('item_not_found')
    // now 'the words placed in between' is the last user message
    c.rt.send({ type: 'response.create', response: { max_response_output_tokens: 1 } })
    const cut = await c.next('response.done')
    expect(cut.response.status).toBe('incomplete')
    expect(cut.response.status_details).toMatchObject({ type: 'incomplete', reason: 'max_output_tokens' })
    expect(cut.response.usage.output_tokens).toBe(1)
    // out of band: its input only, and nothing joins the conversation
    c.rt.send({ type: 'response.create', response: { conversation: 'none', input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'aside' }] }] } })
    const aside = await c.next('response.done')
    expect(aside.response.conversation_id).toBeNull()
    expect(aside.response.output[0].content[0].text).toBe('aside')
    c.rt.send({ type: 'conversation.item.retrieve', item_id: aside.response.output[0].id })
    expect((await c.next('error')).error.code).toBe('item_not_found')
    c.rt.close()
  })

  it("applies the project's rate limits to each response", async () => {
    const admin = adminClient(t)
    const project = await admin.admin.organization.projects.create({ name: 'Realtime limited' })
    await admin.admin.organization.projects.rateLimits.updateRateLimit('rl-test-echo', { project_id: project.id, max_requests_per_1_minute: 1 })
    const c = connect(await newProjectKey(t, project.id))
    await c.next('session.created')
    c.rt.send({ type: 'session.update', session: { modalities: ['text'] } })
    c.rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'one' }] } })
    c.rt.send({ type: 'response.create' })
    expect((await c.next('response.done')).response.status).toBe('completed')
    c.rt.send({ type: 'response.create' })
    const limited = await c.next('response.done')
    expect(limited.response.status).toBe('failed')
    expect(limited.response.status_details.error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded' })
    c.rt.close()
  })

  it('cancels a response in flight', async () => {
    const c = connect(PROJECT_KEY, 'test-scripted')
    await c.next('session.created')
    c.rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'go slowly' }] } })
    await c.next('conversation.item.created')
    c.rt.send({ type: 'response.create' })
    // the default modalities are OpenAI's, text and audio: the text comes as the transcript
    await c.next('response.audio_transcript.delta')
    c.rt.send({ type: 'response.cancel' })
    const done = await c.next('response.done')
    expect(done.response.status).toBe('cancelled')
    expect(done.response.status_details).toMatchObject({ type: 'cancelled', reason: 'client_cancelled' })
    c.rt.close()
  })

  it('answers bad client events with error events naming them', async () => {
    const c = connect()
    await c.next('session.created')
    c.rt.send({ type: 'session.update', event_id: 'evt_bad', session: { custom_voice_id: 'x' } } as never)
    const unknown = await c.next('error')
    expect(unknown.error).toMatchObject({ type: 'invalid_request_error', code: 'unknown_parameter', param: 'session.custom_voice_id', message: "Unknown parameter: 'session.custom_voice_id'.", event_id: 'evt_bad' })
    c.rt.send({ type: 'response.cancel', event_id: 'evt_cancel' })
    expect((await c.next('error')).error).toMatchObject({ code: 'response_cancel_not_active', event_id: 'evt_cancel' })
    c.rt.send({ type: 'no.such.event', event_id: 'evt_x' } as never)
    expect((await c.next('error')).error).toMatchObject({ code: 'invalid_value', param: 'type', event_id: 'evt_x' })
    c.rt.send({ type: 'output_audio_buffer.clear', event_id: 'evt_audio' })
    const audio = await c.next('error')
    expect(audio.error).toMatchObject({ code: 'audio_not_supported', event_id: 'evt_audio' })
    // WebRTC only (the spec's description): over a WebSocket, response.cancel and conversation.item.truncate
    expect(audio.error.message).toContain('output_audio_buffer.clear')
    expect(audio.error.message).toContain('WebRTC')
    c.rt.send({ type: 'session.update', event_id: 'evt_vad', session: { turn_detection: { type: 'semantic_vad', eagerness: 'high' } } })
    expect((await c.next('error')).error).toMatchObject({ code: 'unsupported_value', param: 'session.turn_detection.type', event_id: 'evt_vad' })
    c.rt.send({ type: 'input_audio_buffer.append', audio: Buffer.alloc(960).toString('base64') })
    c.rt.send({ type: 'input_audio_buffer.commit', event_id: 'evt_short' })
    const short = await c.next('error')
    expect(short.error).toMatchObject({ code: 'input_audio_buffer_commit_empty', event_id: 'evt_short' })
    expect(short.error.message).toBe('Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has 20.00ms of audio.')
    c.rt.send({ type: 'input_audio_buffer.clear' })
    await c.next('input_audio_buffer.cleared')
    c.rt.socket.send('not json')
    expect((await c.next('error')).error).toMatchObject({ code: 'invalid_json', event_id: null })
    c.rt.close()
  })
})

describe('the socket: audio through the local engines', () => {
  it('transcribes committed pcm16 audio, answers it, and speaks the answer', { timeout: 30_000 }, async () => {
    // 24 kHz pcm16 speech from Plinth's own speech endpoint, the Realtime input format
    const speech = await t.client().audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'the weather is nice today', response_format: 'pcm' })
    const pcm = Buffer.from(await speech.arrayBuffer())
    const c = connect()
    await c.next('session.created')
    // committed by the client: no voice activity detection
    c.rt.send({ type: 'session.update', session: { modalities: ['text', 'audio'], input_audio_transcription: { model: 'whisper-1' }, turn_detection: null as never } })
    await c.next('session.updated')
    for (let at = 0; at < pcm.length; at += 48_000) c.rt.send({ type: 'input_audio_buffer.append', audio: pcm.subarray(at, at + 48_000).toString('base64') })
    c.rt.send({ type: 'input_audio_buffer.commit' })
    const committed = await c.next('input_audio_buffer.committed')
    const item = (await c.next('conversation.item.created')).item
    expect(item).toMatchObject({ id: committed.item_id, role: 'user', content: [{ type: 'input_audio' }] })
    // asked right away: the response waits for the transcript
    c.rt.send({ type: 'response.create' })
    const heard = await c.next('conversation.item.input_audio_transcription.completed', 20_000)
    expect(heard.transcript).toMatch(/weather/)
    const done = await c.next('response.done', 20_000)
    expect(done.response.status).toBe('completed')
    const transcript = await c.next('response.audio_transcript.done')
    expect(transcript.transcript).toBe(heard.transcript)
    expect(done.response.output[0].content).toEqual([{ type: 'audio', transcript: heard.transcript }])
    const audio = c.events.filter((e) => e.type === 'response.audio.delta').map((e) => Buffer.from(e.delta, 'base64'))
    // about a second of speech: 24 kHz, 2 bytes a sample
    expect(Buffer.concat(audio).length).toBeGreaterThan(24_000)
    expect(c.events.some((e) => e.type === 'response.audio.done')).toBe(true)
    c.rt.close()
  })
})

describe('the socket: refusals before the upgrade', () => {
  it('refuses no key, a bad key, an admin key, a wrong model and another path', async () => {
    expect(await refused('/v1/realtime?model=test-echo', {})).toMatchObject({ status: 401 })
    const bad = await refused('/v1/realtime?model=test-echo', { authorization: 'Bearer sk-proj-nope' })
    expect(bad).toMatchObject({ status: 401, body: { error: { code: 'invalid_api_key' } } })
    expect((await refused('/v1/realtime?model=test-echo', { authorization: `Bearer ${ADMIN_KEY}` })).status).toBe(403)
    const wrong = await refused('/v1/realtime?model=no-such-model', { authorization: `Bearer ${PROJECT_KEY}` })
    expect(wrong).toMatchObject({ status: 404, body: { error: { code: 'model_not_found' } } })
    const embed = await refused('/v1/realtime?model=test-embed', { authorization: `Bearer ${PROJECT_KEY}` })
    expect(embed).toMatchObject({ status: 400, body: { error: { code: 'model_not_supported', param: 'model' } } })
    const narrow = await refused('/v1/realtime?model=test-echo', { authorization: `Bearer ${await chatOnlyKey()}` })
    expect(narrow.status).toBe(401)
    expect(narrow.body.error.message).toContain('api.realtime.write')
    const noModel = await refused('/v1/realtime', { authorization: `Bearer ${PROJECT_KEY}` })
    expect(noModel).toMatchObject({ status: 400, body: { error: { param: 'model' } } })
    expect((await refused('/v1/chat/completions', { authorization: `Bearer ${PROJECT_KEY}` })).status).toBe(404)
  })

  it("refuses a model the project's model permissions deny, on the socket and for a session", async () => {
    const admin = adminClient(t)
    const project = await admin.admin.organization.projects.create({ name: 'Realtime denied' })
    await admin.admin.organization.projects.modelPermissions.update(project.id, { mode: 'deny_list', model_ids: ['test-echo'] })
    const key = await newProjectKey(t, project.id)
    const denied = await refused('/v1/realtime?model=test-echo', { authorization: `Bearer ${key}` })
    expect(denied).toMatchObject({ status: 403, body: { error: { code: 'model_not_found' } } })
    const session = await t.client(key).beta.realtime.sessions.create({ model: 'test-echo' as never }).catch((e) => e)
    expect(session.status).toBe(403)
    // another model of the same project opens
    const c = connect(key, 'test-scripted')
    await c.next('session.created')
    c.rt.close()
  })

  it('refuses an unknown or expired ephemeral key', async () => {
    const session = await t.client().beta.realtime.sessions.create({ model: 'test-echo' as never })
    expect(await t.ctx.services.realtime.redeem(session.client_secret.value)).toBeDefined()
    await t.ctx.storage.db.updateTable('realtime_client_secrets').set({ expires_at: Math.floor(Date.now() / 1000) - 1 }).execute()
    const expired = await refused('/v1/realtime?model=test-echo', { authorization: `Bearer ${session.client_secret.value}` })
    expect(expired).toMatchObject({ status: 401, body: { error: { code: 'invalid_api_key' } } })
    expect((await refused('/v1/realtime?model=test-echo', { authorization: 'Bearer ek_unknown' })).status).toBe(401)
  })

  it('keeps ephemeral keys in the database, by hash, and stops them with the key that made them', async () => {
    const project = await adminClient(t).admin.organization.projects.create({ name: 'Realtime revoked' })
    const key = await newProjectKey(t, project.id)
    const session = await t.client(key).beta.realtime.sessions.create({ model: 'test-echo' as never })
    const rows = await t.ctx.storage.db.selectFrom('realtime_client_secrets').selectAll().execute()
    expect(JSON.stringify(rows)).not.toContain(session.client_secret.value)
    // another node or worker finds it: nothing of it is held in this process
    const c = connect(session.client_secret.value, 'test-echo')
    await c.next('session.created')
    c.rt.close()
    const principal = await t.ctx.services.keys.authenticate(key)
    const deleted = await t.fetch(`${t.url}/v1/organization/projects/${project.id}/api_keys/${principal.keyId}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    expect(deleted.status).toBe(200)
    const revoked = await refused('/v1/realtime?model=test-echo', { authorization: `Bearer ${session.client_secret.value}` })
    expect(revoked).toMatchObject({ status: 401, body: { error: { code: 'invalid_api_key' } } })
  })

  it('writes an access line and counts each upgrade: 101 once the socket closes, a refusal with its status', async () => {
    // a project of its own: another test's socket closing meanwhile logs under its own project
    const project = await adminClient(t).admin.organization.projects.create({ name: 'Realtime logged' })
    const key = await newProjectKey(t, project.id)
    const lines: string[] = []
    const write = process.stdout.write.bind(process.stdout)
    process.stdout.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stdout.write
    setLogLevel('info')
    setLogFormat('json')
    try {
      const c = connect(key, 'test-echo')
      await c.next('session.created')
      await new Promise<void>((resolve) => {
        c.rt.socket.once('close', () => resolve())
        c.rt.close()
      })
      expect((await refused('/v1/realtime?model=test-echo', { authorization: 'Bearer sk-wrong' })).status).toBe(401)
      await new Promise((resolve) => setTimeout(resolve, 50))
    } finally {
      process.stdout.write = write
      setLogLevel('silent')
    }
    const access = lines.flatMap((chunk) => chunk.split('\n').filter(Boolean)).map((l) => JSON.parse(l)).filter((l) => l.log === 'access')
    expect(access.filter((l) => l.project === project.id)).toEqual([
      expect.objectContaining({ method: 'GET', route: '/v1/realtime', path: '/v1/realtime', status: 101, model: 'test-echo', key_id: expect.any(String), msg: 'GET /v1/realtime 101' }),
    ])
    expect(access.filter((l) => l.status === 401)).toEqual([expect.objectContaining({ route: '/v1/realtime', msg: 'GET /v1/realtime 401' })])
    expect(JSON.stringify(access)).not.toContain(key)
  })

  it('takes the key from a browser subprotocol and never echoes it back', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/v1/realtime?model=test-echo`, ['realtime', `openai-insecure-api-key.${PROJECT_KEY}`, 'openai-beta.realtime-v1'])
    const first = await new Promise<Event>((resolve, reject) => {
      socket.once('message', (data) => resolve(JSON.parse(data.toString())))
      socket.once('error', reject)
    })
    expect(first.type).toBe('session.created')
    expect(socket.protocol).toBe('realtime')
    socket.close()
  })

  it("serves the socket on the production server too (main.ts: createStartingServer, then serveApp)", async () => {
    const server = createStartingServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      serveApp(server, t.ctx)
      const socket = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/realtime?model=test-echo`, { headers: { authorization: `Bearer ${PROJECT_KEY}` } })
      const first = await new Promise<Event>((resolve, reject) => {
        socket.once('message', (data) => resolve(JSON.parse(data.toString())))
        socket.once('error', reject)
      })
      expect(first.type).toBe('session.created')
      socket.close()
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('leaves normal HTTP alone beside the socket, even a request offering another upgrade', async () => {
    const models = await t.client().models.list()
    expect(models.data.length).toBeGreaterThan(0)
    // curl --http2 on http:// offers h2c: still an ordinary request, with its body
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const body = JSON.stringify({ model: 'test-echo', messages: [{ role: 'user', content: 'still here' }] })
      const request = http.request(
        { port, host: '127.0.0.1', method: 'POST', path: '/v1/chat/completions', headers: { authorization: `Bearer ${PROJECT_KEY}`, 'content-type': 'application/json', connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAARAAAAAAAIAAAAA' } },
        (response) => {
          let text = ''
          response.on('data', (chunk) => (text += chunk))
          response.on('end', () => resolve({ status: response.statusCode!, body: text }))
        },
      )
      request.on('error', reject)
      request.end(body)
    })
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.body).choices[0].message.content).toBe('still here')
  })
})
