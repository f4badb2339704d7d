import net from 'node:net'
import OpenAI from 'openai'
import { OpenAIRealtimeWS } from 'openai/beta/realtime/ws'
import { expect } from 'vitest'
import { validateSchema } from './spec.js'
import { readSpecDocument } from './spec-load.js'
import { PROJECT_KEY, type TestApp } from './test-context.js'

export type Event = { type: string; [key: string]: any }

let schemas: Map<string, string> | undefined

/** server event type → its schema in the spec (RealtimeServerEvent*) */
function serverEventSchemas(): Map<string, string> {
  if (schemas) return schemas
  schemas = new Map()
  for (const [name, schema] of Object.entries(readSpecDocument('v2').components.schemas)) {
    if (!name.startsWith('RealtimeServerEvent') || name === 'RealtimeServerEvent') continue
    const type = (schema as { properties?: { type?: { enum?: string[]; const?: string } } }).properties?.type
    const value = type?.enum?.[0] ?? type?.const
    if (value) schemas.set(value, name)
  }
  return schemas
}

/** Every client `connect` opened, so a failed test's socket does not keep the server from closing. */
const opened = new Set<OpenAIRealtimeWS>()

export function closeRealtimeClients() {
  for (const rt of opened) rt.socket.terminate()
  opened.clear()
}

/**
 * The SDK's client (OpenAIRealtimeWS) on a test app; it always dials wss://, so the test hands it a
 * plain TCP socket. Each server event is checked against its spec schema.
 */
export function connect(t: TestApp, key = PROJECT_KEY, model = 'test-echo') {
  const port = Number(new URL(t.url).port)
  const SCHEMAS = serverEventSchemas()
  const client = new OpenAI({ apiKey: key, baseURL: `${t.url}/v1`, maxRetries: 0 })
  const rt = new OpenAIRealtimeWS({ model, options: { createConnection: () => net.connect(port, '127.0.0.1') } as never }, client)
  opened.add(rt)
  rt.socket.once('close', () => opened.delete(rt))
  const events: Event[] = []
  const seen = new Set<Event>()
  const waiters: { type: string; resolve: (event: Event) => void }[] = []
  rt.socket.on('message', (data) => {
    const event = JSON.parse(data.toString()) as Event
    const schema = SCHEMAS.get(event.type)
    expect(schema, `a spec schema for ${event.type}`).toBeDefined()
    // the spec's enum lists OpenAI's realtime models; Plinth's sessions run its own chat models.
    // As OpenAI sends them, where the spec draws otherwise: the first item's previous_item_id is
    // null, response.created's response and a new output item are `in_progress`, and committed
    // audio's transcript is null until it is transcribed; an assistant's spoken content is of type
    // `audio`, which the spec's item content leaves out; an out-of-band response's conversation_id
    // is null, as the spec's own description says
    const valueAt = (pointer: string) => pointer.split('/').slice(1).reduce((value: any, key) => value?.[key], event)
    const violations = validateSchema(schema!, event, { version: 'v2' }).filter(
      (v) =>
        v.path !== '/session/model' &&
        !(v.path === '/previous_item_id' && event.previous_item_id === null) &&
        !(v.path === '/response/status' && event.response.status === 'in_progress') &&
        !(v.path === '/item/status' && event.item.status === 'in_progress') &&
        !(v.path === '/item/content/0/transcript' && event.item.content[0].transcript === null) &&
        !(v.path.endsWith('/content/0/type') && valueAt(v.path) === 'audio') &&
        !(v.path === '/response/conversation_id' && event.response.conversation_id === null),
    )
    expect(violations, event.type).toEqual([])
    events.push(event)
    const at = waiters.findIndex((w) => w.type === event.type)
    if (at >= 0) {
      seen.add(event)
      waiters.splice(at, 1)[0].resolve(event)
    }
  })
  rt.on('error', () => {})
  /** The first event of that type not yet taken, waiting for it if it has not come. */
  const next = (type: string, timeout = 4000) =>
    new Promise<Event>((resolve, reject) => {
      const early = events.find((e) => e.type === type && !seen.has(e))
      if (early) {
        seen.add(early)
        return resolve(early)
      }
      waiters.push({ type, resolve })
      setTimeout(() => reject(new Error(`no ${type} event; got ${events.map((e) => e.type).join(', ')}`)), timeout)
    })
  const opening = new Promise<void>((resolve, reject) => {
    rt.socket.once('open', () => resolve())
    rt.socket.once('error', reject)
  })
  return { rt, events, next, opened: opening, since: (n: number) => events.slice(n) }
}
