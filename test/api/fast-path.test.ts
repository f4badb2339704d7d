import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'
import { validatingFetch } from '../helpers/validating-fetch.js'

// The server answers POST /v1/chat/completions, /v1/completions and /v1/embeddings from a Node
// fast path in front of Hono (src/api/fast-path.ts). The same requests sent to the same app
// served by Hono's Node adapter alone must get the same answers: status, body, headers.

type Target = Pick<TestApp, 'fetch' | 'client'>
let http: TestApp
let hono: Target
let honoServer: Server
const config = { server: { bodyLimitBytes: 4096, corsOrigins: ['https://app.example'] } }
beforeAll(async () => {
  http = await createTestApp(config, { transport: 'http' })
  honoServer = createServer(getRequestListener(http.app.fetch))
  await new Promise<void>((resolve) => honoServer.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(honoServer.address() as AddressInfo).port}`
  const honoFetch = validatingFetch(((input: string, init?: RequestInit) => fetch(input.replace('http://plinth.test', url), init)) as typeof fetch)
  hono = {
    fetch: honoFetch,
    client: (key = PROJECT_KEY) => new OpenAI({ apiKey: key, baseURL: `${url}/v1`, fetch: honoFetch, maxRetries: 0 }),
  }
})
afterAll(async () => {
  honoServer?.closeAllConnections()
  honoServer?.close()
  await http?.close()
})

type Case = { name: string; path: string; headers?: Record<string, string>; body: string | Uint8Array }
const json = (value: unknown) => JSON.stringify(value)
const chat = { model: 'test-echo', messages: [{ role: 'user', content: 'hello there' }] }
// `{"model":"test-echo","messages":[{"role":"user","content":"<0xff 0xfe>"}]}`: not UTF-8
const notUtf8 = Buffer.concat([
  Buffer.from('{"model":"test-echo","messages":[{"role":"user","content":"'),
  Buffer.from([0xff, 0xfe]),
  Buffer.from('"}]}'),
])
const loneSurrogate = '{"model":"test-echo","messages":[{"role":"user","content":"a\\ud800b"}]}'
const cases: Case[] = [
  { name: 'a chat completion', path: '/v1/chat/completions', body: json(chat) },
  { name: 'a completion', path: '/v1/completions', body: json({ model: 'test-echo', prompt: 'say this' }) },
  { name: 'embeddings', path: '/v1/embeddings', body: json({ model: 'test-embed', input: ['a', 'b'] }) },
  { name: 'a query string', path: '/v1/chat/completions?debug=1', body: json(chat) },
  { name: 'no key (401)', path: '/v1/chat/completions', headers: { authorization: '' }, body: json(chat) },
  { name: 'a wrong key (401)', path: '/v1/embeddings', headers: { authorization: 'Bearer sk-proj-nope' }, body: json(chat) },
  { name: 'an admin key (403)', path: '/v1/chat/completions', headers: { authorization: `Bearer ${ADMIN_KEY}` }, body: json(chat) },
  { name: 'another organization (401)', path: '/v1/chat/completions', headers: { 'openai-organization': 'org-other' }, body: json(chat) },
  { name: 'another project (401)', path: '/v1/completions', headers: { 'openai-project': 'proj_other' }, body: json(chat) },
  { name: 'malformed JSON (400)', path: '/v1/chat/completions', body: '{"model": ' },
  { name: 'a body that is not UTF-8 (400)', path: '/v1/chat/completions', body: notUtf8 },
  { name: 'an unpaired surrogate escape (400)', path: '/v1/chat/completions', body: loneSurrogate },
  { name: 'an unknown argument (400)', path: '/v1/chat/completions', body: json({ ...chat, tempreature: 1 }) },
  { name: 'a missing field (400)', path: '/v1/embeddings', body: json({ model: 'test-embed' }) },
  { name: 'a body over the limit (413)', path: '/v1/chat/completions', body: json({ ...chat, user: 'x'.repeat(5000) }) },
  { name: 'an unknown model (404)', path: '/v1/chat/completions', body: json({ ...chat, model: 'no-such-model' }) },
  { name: 'a chat request to an embeddings model (400)', path: '/v1/chat/completions', body: json({ ...chat, model: 'test-embed' }) },
  { name: 'an allowed browser origin', path: '/v1/chat/completions', headers: { origin: 'https://app.example' }, body: json(chat) },
  { name: 'another browser origin', path: '/v1/chat/completions', headers: { origin: 'https://evil.example' }, body: json(chat) },
]

async function send(app: Target, c: Case) {
  const response = await app.fetch(`http://plinth.test${c.path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${PROJECT_KEY}`, 'content-type': 'application/json', ...c.headers },
    body: c.body as BodyInit,
  })
  const text = await response.text()
  const body = JSON.parse(text)
  // what differs from one answer to the next by nature
  for (const key of ['id', 'created']) delete body[key]
  if (body.error?.message) body.error.message = body.error.message.replace(/req_[0-9a-f]{32}/g, 'req_')
  const headers = [...response.headers.keys()].filter((name) => !['date', 'connection', 'keep-alive', 'transfer-encoding', 'content-length'].includes(name)).sort()
  return { status: response.status, type: response.headers.get('content-type'), body, headers, cors: response.headers.get('access-control-allow-origin') }
}

describe('the inference fast path answers as Hono does', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const fast = await send(http, c)
      const slow = await send(hono, c)
      expect(fast).toEqual(slow)
      expect(fast.headers).toEqual(expect.arrayContaining(['x-request-id', 'openai-organization', 'openai-processing-ms', 'openai-version']))
    })
  }

  it('answers bytes that are not UTF-8, and unpaired surrogates, with the C1 message', async () => {
    for (const app of [http, hono]) {
      for (const body of [notUtf8, loneSurrogate, loneSurrogate.replace('ud800', 'udfff')]) {
        const answer = await send(app, { name: '', path: '/v1/chat/completions', body })
        expect(answer.status).toBe(400)
        expect(answer.body.error.message).toMatch(/^We could not parse the JSON body of your request/)
      }
      // a surrogate pair is one character, and text
      const pair = loneSurrogate.replace('ud800', 'ud83d\\ude00')
      const answer = await send(app, { name: '', path: '/v1/chat/completions', body: pair })
      expect(answer.status).toBe(200)
      expect(answer.body.choices[0].message.content).toBe('a\u{1F600}b')
    }
  })

  it('streams the same events', async () => {
    const events = async (app: Target) => {
      const stream = await app.client().chat.completions.create({ ...chat, stream: true, stream_options: { include_usage: true } } as never)
      const out: unknown[] = []
      for await (const chunk of stream as unknown as AsyncIterable<Record<string, unknown>>) out.push({ ...chunk, id: 'x', created: 0 })
      return out
    }
    expect(await events(http)).toEqual(await events(hono))
  })

  it("honours a client's Connection: close on a stream (the socket closes once the stream ends)", async () => {
    const { request } = await import('node:http')
    const answer = await new Promise<{ connection: string | undefined; body: string; closed: boolean }>((resolve, reject) => {
      const req = request(`${http.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${PROJECT_KEY}`, 'content-type': 'application/json', connection: 'close' },
      })
      req.on('response', (res) => {
        let body = ''
        res.on('data', (d: Buffer) => (body += d))
        res.on('end', () => res.socket?.once('close', () => resolve({ connection: res.headers.connection, body, closed: true })))
      })
      req.on('error', reject)
      req.end(JSON.stringify({ ...chat, stream: true }))
    })
    expect(answer.connection).toBe('close')
    expect(answer.body.endsWith('data: [DONE]\n\n')).toBe(true)
    expect(answer.closed).toBe(true)
  })

  it('lets CORS preflights and every other route through to Hono', async () => {
    const preflight = await http.fetch('http://plinth.test/v1/chat/completions', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST')
    const listed = await http.client().chat.completions.list()
    expect(listed.data).toBeInstanceOf(Array)
    const trailing = await http.fetch('http://plinth.test/v1/chat/completions/', { method: 'POST', headers: { authorization: `Bearer ${PROJECT_KEY}` } })
    expect(trailing.status).toBe(404)
  })
})
