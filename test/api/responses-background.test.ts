import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { otherProjectClient } from '../helpers/other-project.js'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let client: OpenAI
beforeAll(async () => {
  t = await createTestApp()
  t.ctx.jobs.start()
  client = t.client()
})
afterAll(async () => t.close())

async function settled(id: string) {
  for (let i = 0; i < 200; i++) {
    const response = await client.responses.retrieve(id)
    if (!['queued', 'in_progress'].includes(response.status!)) return response
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`response ${id} did not end`)
}

describe('background responses', () => {
  it('are created queued, run on the job runner and can be polled to completion', async () => {
    const created = await client.responses.create({ model: 'test-scripted', input: 'hello there', background: true })
    expect(created).toMatchObject({ object: 'response', status: 'queued', background: true, output: [] })
    const done = await settled(created.id)
    expect(done).toMatchObject({ id: created.id, status: 'completed', background: true, created_at: created.created_at })
    expect(done.output_text).toBe('Hello! How can I help you today?')
    expect(done.usage!.output_tokens).toBeGreaterThan(0)
    const items = await client.responses.inputItems.list(created.id)
    expect(items.data).toHaveLength(1)
    // it is a conversation turn like any other
    const next = await client.responses.create({ model: 'test-echo', input: 'and then', previous_response_id: created.id })
    expect(next.output_text).toBe('and then')
  })

  it('streams: the events of the job, from response.created to response.completed', async () => {
    const stream = await client.responses.create({ model: 'test-scripted', input: 'go slowly', background: true, stream: true })
    const events = []
    for await (const event of stream) events.push(event)
    expect(events[0]).toMatchObject({ type: 'response.created', sequence_number: 0 })
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i))
    const last = events.at(-1)!
    expect(last.type).toBe('response.completed')
    const response = (last as { response: OpenAI.Responses.Response }).response
    expect(response.background).toBe(true)
    const text = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join('')
    expect(text).toBe('a b c d e f g h i j k l m n o p q r s t u v w x y z')
    expect((await client.responses.retrieve(response.id)).status).toBe('completed')

    // retrieve({ stream: true, starting_after }) replays the same events after that number
    const replay = await client.responses.retrieve(response.id, { stream: true, starting_after: 3 })
    const again = []
    for await (const event of replay) again.push(event)
    expect(again).toEqual(events.slice(4))
  })

  it('replays a stored response with stream=true from its object when not run here', async () => {
    const response = await client.responses.create({ model: 'test-echo', input: 'replay me' })
    const replay = await client.responses.retrieve(response.id, { stream: true })
    const events = []
    for await (const event of replay) events.push(event)
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ])
    expect(events.at(-1)).toMatchObject({ response: { id: response.id, status: 'completed' } })
  })

  it('can be cancelled while running; the response ends cancelled', async () => {
    const created = await client.responses.create({ model: 'test-scripted', input: 'go slowly', background: true })
    // wait until the job has started
    for (let i = 0; i < 100 && (await client.responses.retrieve(created.id)).status === 'queued'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const cancelled = await client.responses.cancel(created.id)
    expect(cancelled).toMatchObject({ id: created.id, status: 'cancelled' })
    const after = await settled(created.id)
    expect(after.status).toBe('cancelled')
    // a second cancel answers the response as it is
    expect((await client.responses.cancel(created.id)).status).toBe('cancelled')
  })

  it('refuses to cancel a synchronous response, and another project cannot see one', async () => {
    const response = await client.responses.create({ model: 'test-echo', input: 'sync' })
    const error = await client.responses.cancel(response.id).catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect(error.error).toMatchObject({ message: 'Cannot cancel a synchronous response.', type: 'invalid_request_error' })
    const other = await otherProjectClient(t)
    const missing = await other.responses.cancel(response.id).catch((e) => e)
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError)
  })

  it('checks the request first: bad input is a 4xx, store: false is refused, nothing is queued', async () => {
    const bad = await client.responses.create({ model: 'test-echo', input: 'x', background: true, previous_response_id: 'resp_nope' }).catch((e) => e)
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError)
    expect(bad.error.code).toBe('previous_response_not_found')
    const unstored = await client.responses.create({ model: 'test-echo', input: 'x', background: true, store: false }).catch((e) => e)
    expect(unstored).toBeInstanceOf(OpenAI.BadRequestError)
    expect(unstored.error.param).toBe('store')
  })

  it('ends failed when the model fails mid-way', async () => {
    const created = await client.responses.create({ model: 'test-scripted', input: 'fail midway', background: true })
    const done = await settled(created.id)
    expect(done.status).toBe('failed')
    expect(done.error).toMatchObject({ code: 'server_error' })
  })
})
