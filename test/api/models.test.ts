import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let client: OpenAI
beforeAll(async () => {
  t = await createTestApp()
  client = t.client()
})
afterAll(async () => t.close())

describe('models', () => {
  it('lists the three built-in test models', async () => {
    const page = await client.models.list()
    const byId = new Map(page.data.map((m) => [m.id, m]))
    for (const id of ['test-echo', 'test-scripted', 'test-embed']) {
      expect(byId.get(id)).toEqual({
        id,
        object: 'model',
        created: 1_704_067_200,
        owned_by: 'plinth-test',
      })
    }
    const all: string[] = []
    for await (const model of client.models.list()) all.push(model.id)
    expect(all).toEqual(page.data.map((m) => m.id))
  })

  it('retrieves one model', async () => {
    expect(await client.models.retrieve('test-embed')).toEqual({
      id: 'test-embed',
      object: 'model',
      created: 1_704_067_200,
      owned_by: 'plinth-test',
    })
  })

  it('answers 404 model_not_found for an unknown model', async () => {
    const error = await client.models.retrieve('gpt-unknown').catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.NotFoundError)
    expect(error.error).toEqual({
      message: 'The model `gpt-unknown` does not exist or you do not have access to it.',
      type: 'invalid_request_error',
      param: null,
      code: 'model_not_found',
    })
  })

  it('retrieves ids that contain a slash or a colon', async () => {
    const error = await client.models.retrieve('org/model:tag').catch((e) => e)
    expect(error.status).toBe(404)
    expect(error.error.message).toBe(
      'The model `org/model:tag` does not exist or you do not have access to it.',
    )
  })

  it('refuses to delete a served model (403) and an unknown one (404)', async () => {
    const served = await client.models.delete('test-echo').catch((e) => e)
    expect(served).toBeInstanceOf(OpenAI.PermissionDeniedError)
    expect(served.error.type).toBe('invalid_request_error')
    expect(served.error.message).toContain('test-echo')
    const unknown = await client.models.delete('ft:gpt-4o:nobody').catch((e) => e)
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError)
    expect(unknown.error.code).toBe('model_not_found')
    // still served
    expect((await client.models.retrieve('test-echo')).id).toBe('test-echo')
  })
})
