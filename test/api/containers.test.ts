import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { otherProjectClient } from '../helpers/other-project.js'
import { skippedPgCase, storageCases } from '../helpers/pg.js'
import { createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// The Containers API (docs/code-interpreter.md, "Containers") through the official SDK 6, on
// SQLite and on PostgreSQL when TEST_PG_URL is set. The spec file has no Containers, so every
// shape is SDK 6's, checked field by field. Here: the metadata and files, which need no sandbox;
// test/api/containers-code.test.ts runs code in them.

type Container = OpenAI.Containers.ContainerRetrieveResponse
type ContainerFile = OpenAI.Containers.Files.FileRetrieveResponse

const now = () => Math.floor(Date.now() / 1000)

function expectContainer(container: Container, fields: { name: string; minutes: number; status?: string; memory_limit?: string }) {
  expect(Object.keys(container).sort()).toEqual(['created_at', 'expires_after', 'id', 'last_active_at', 'memory_limit', 'name', 'object', 'status'])
  expect(container.id).toMatch(/^cntr_/)
  expect(container.object).toBe('container')
  expect(container.name).toBe(fields.name)
  expect(container.status).toBe(fields.status ?? 'running')
  expect(container.expires_after).toEqual({ anchor: 'last_active_at', minutes: fields.minutes })
  expect(container.memory_limit).toBe(fields.memory_limit ?? '1g')
  expect(Math.abs(container.created_at - now())).toBeLessThanOrEqual(5)
  expect(container.last_active_at).toBeGreaterThanOrEqual(container.created_at)
}

function expectFile(file: ContainerFile, fields: { container_id: string; path: string; bytes: number; source: string }) {
  expect(Object.keys(file).sort()).toEqual(['bytes', 'container_id', 'created_at', 'id', 'object', 'path', 'source'])
  expect(file.id).toMatch(/^cfile_/)
  expect(file.object).toBe('container.file')
  expect(file).toMatchObject(fields)
  expect(Math.abs(file.created_at - now())).toBeLessThanOrEqual(5)
}

async function errorOf(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(OpenAI.APIError)
  return error as InstanceType<typeof OpenAI.APIError>
}

describe.each(storageCases())('the Containers API on $name', ({ name, create }) => {
  let t: TestApp
  let client: OpenAI
  let cleanup: (() => Promise<void>) | undefined
  beforeAll(async () => {
    const storage = create('containers')
    cleanup = storage.cleanup
    t = await createTestApp({}, { storage: storage.config })
    client = t.client()
  })
  afterAll(async () => {
    await t?.close()
    await cleanup?.()
  })

  it('creates, retrieves, lists (cursor, order, name) and deletes containers', async () => {
    const made = await client.containers.create({ name: `${name} one` })
    expectContainer(made, { name: `${name} one`, minutes: 20 })
    const second = await client.containers.create({ name: 'two', expires_after: { anchor: 'last_active_at', minutes: 5 }, memory_limit: '4g' })
    expectContainer(second, { name: 'two', minutes: 5, memory_limit: '4g' })
    const third = await client.containers.create({ name: 'three', network_policy: { type: 'disabled' }, skills: [] })
    expect(await client.containers.retrieve(made.id)).toEqual(made)

    const page = await client.containers.list({ limit: 2 })
    expect(page.data.map((c) => c.id)).toEqual([third.id, second.id])
    expect(page.has_more).toBe(true)
    const all = []
    for await (const container of client.containers.list({ limit: 1, order: 'asc' })) all.push(container.id)
    expect(all).toEqual([made.id, second.id, third.id])
    expect((await client.containers.list({ name: 'two' })).data).toEqual([second])

    // the SDK's delete is void: the body is read raw
    const deleted = await t.fetch(`${t.url}/v1/containers/${third.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${PROJECT_KEY}` } })
    expect(deleted.status).toBe(200)
    expect(await deleted.json()).toEqual({ id: third.id, object: 'container.deleted', deleted: true })
    await client.containers.delete(second.id)
    const gone = await errorOf(client.containers.retrieve(second.id))
    expect(gone.status).toBe(404)
    expect(gone.error).toEqual({ message: `Container with id '${second.id}' not found.`, type: 'invalid_request_error', param: null, code: null })
    expect((await client.containers.list()).data.map((c) => c.id)).toEqual([made.id])
  })

  it('refuses bad requests with 400s in OpenAI shape', async () => {
    const cases: [object, string | null][] = [
      [{}, 'name'],
      [{ name: 'x', expires_after: { anchor: 'last_active_at', minutes: 21 } }, 'expires_after.minutes'],
      [{ name: 'x', expires_after: { anchor: 'last_active_at', minutes: 0 } }, 'expires_after.minutes'],
      [{ name: 'x', expires_after: { anchor: 'created_at', minutes: 5 } }, 'expires_after.anchor'],
      [{ name: 'x', memory_limit: '2g' }, 'memory_limit'],
      [{ name: 'x', network_policy: { type: 'allowlist', allowed_domains: ['example.com'] } }, 'network_policy.type'],
      [{ name: 'x', unknown: 1 }, 'unknown'],
    ]
    for (const [body, param] of cases) {
      const error = await errorOf(client.containers.create(body as OpenAI.Containers.ContainerCreateParams))
      expect(error.status, JSON.stringify(body)).toBe(400)
      expect((error.error as { type: string }).type).toBe('invalid_request_error')
      expect((error.error as { param: string | null }).param).toBe(param)
    }
    const above = await errorOf(client.containers.create({ name: 'x', expires_after: { anchor: 'last_active_at', minutes: 21 } }))
    expect(above.error).toMatchObject({ message: "Invalid 'expires_after.minutes': integer above maximum value. Expected a value <= 20, but got 21 instead.", code: 'integer_above_max_value' })
    const file = await errorOf(client.containers.create({ name: 'x', file_ids: ['file-nope'] }))
    expect(file.status).toBe(404)
    expect((error(file)).message).toBe('No such File object: file-nope')
    const limit = await errorOf(client.containers.list({ limit: 101 }))
    expect(limit.status).toBe(400)
  })

  it('uploads files (multipart and file_id), lists, retrieves, downloads and deletes them', async () => {
    const container = await client.containers.create({ name: 'files' })
    const uploaded = await client.containers.files.create(container.id, { file: await toFile(Buffer.from('a,b\n1,2\n'), 'data.csv') })
    expectFile(uploaded, { container_id: container.id, path: '/mnt/data/data.csv', bytes: 8, source: 'user' })
    const plinthFile = await client.files.create({ file: await toFile(Buffer.from('hello'), 'notes.txt'), purpose: 'user_data' })
    const copied = await client.containers.files.create(container.id, { file_id: plinthFile.id })
    expectFile(copied, { container_id: container.id, path: '/mnt/data/notes.txt', bytes: 5, source: 'user' })

    expect(await client.containers.files.retrieve(uploaded.id, { container_id: container.id })).toEqual(uploaded)
    const page = await client.containers.files.list(container.id)
    expect(page.data).toEqual([copied, uploaded])
    expect(page.has_more).toBe(false)
    const asc = await client.containers.files.list(container.id, { order: 'asc', limit: 1 })
    expect(asc.data).toEqual([uploaded])
    expect(asc.has_more).toBe(true)

    const content = await client.containers.files.content.retrieve(uploaded.id, { container_id: container.id })
    expect(content.headers.get('content-type')).toMatch(/^text\/csv/)
    expect(Buffer.from(await content.arrayBuffer()).toString()).toBe('a,b\n1,2\n')
    expect(await (await client.containers.files.content.retrieve(copied.id, { container_id: container.id })).text()).toBe('hello')

    // the same path again: new bytes, the same file
    const again = await client.containers.files.create(container.id, { file: await toFile(Buffer.from('x\n'), 'data.csv') })
    expect(again).toMatchObject({ id: uploaded.id, bytes: 2 })
    expect(await (await client.containers.files.content.retrieve(uploaded.id, { container_id: container.id })).text()).toBe('x\n')

    const deleted = await t.fetch(`${t.url}/v1/containers/${container.id}/files/${copied.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${PROJECT_KEY}` } })
    expect(await deleted.json()).toEqual({ id: copied.id, object: 'container.file.deleted', deleted: true })
    await client.containers.files.delete(uploaded.id, { container_id: container.id })
    expect((await client.containers.files.list(container.id)).data).toEqual([])
    const missing = await errorOf(client.containers.files.retrieve(uploaded.id, { container_id: container.id }))
    expect(missing.status).toBe(404)
    expect(missing.error).toEqual({ message: `File ${uploaded.id} not found on container ${container.id}.`, type: 'invalid_request_error', param: null, code: null })
    const content404 = await errorOf(client.containers.files.content.retrieve(uploaded.id, { container_id: container.id }))
    expect(content404.status).toBe(404)

    // deleting the container takes its files
    const kept = await client.containers.files.create(container.id, { file: await toFile(Buffer.from('k'), 'k.txt') })
    await client.containers.delete(container.id)
    const after = await errorOf(client.containers.files.retrieve(kept.id, { container_id: container.id }))
    expect(after.status).toBe(404)
    expect((error(after)).message).toBe(`Container with id '${container.id}' not found.`)
  })

  it('refuses bad file requests', async () => {
    const container = await client.containers.create({ name: 'bad files' })
    const noFile = await errorOf(client.containers.files.create(container.id, {}))
    expect(noFile.status).toBe(400)
    const unknownFile = await errorOf(client.containers.files.create(container.id, { file_id: 'file-nope' }))
    expect(unknownFile.status).toBe(404)
    expect((error(unknownFile)).message).toBe('No such File object: file-nope')
    const unknownContainer = await errorOf(client.containers.files.create('cntr_nope', { file: await toFile(Buffer.from('x'), 'x.txt') }))
    expect(unknownContainer.status).toBe(404)
    expect((error(unknownContainer)).message).toBe("Container with id 'cntr_nope' not found.")
    const badName = await errorOf(client.containers.files.create(container.id, { file: await toFile(Buffer.from('x'), 'x'.repeat(256)) }))
    expect(badName.status).toBe(400)
    expect(error(badName).param).toBe('file')
    for (const call of [() => client.containers.files.list('cntr_nope'), () => client.containers.retrieve('cntr_nope'), () => client.containers.delete('cntr_nope')]) {
      expect((await errorOf(call())).status).toBe(404)
    }
  })

  it('keeps projects apart: another project sees none of them', async () => {
    const other = await otherProjectClient(t)
    const container = await client.containers.create({ name: 'mine' })
    const file = await client.containers.files.create(container.id, { file: await toFile(Buffer.from('secret'), 's.txt') })
    expect((await other.containers.list()).data).toEqual([])
    const upload = await toFile(Buffer.from('x'), 'x.txt')
    const calls: (() => Promise<unknown>)[] = [
      () => other.containers.retrieve(container.id),
      () => other.containers.delete(container.id),
      () => other.containers.files.list(container.id),
      () => other.containers.files.retrieve(file.id, { container_id: container.id }),
      () => other.containers.files.content.retrieve(file.id, { container_id: container.id }),
      () => other.containers.files.delete(file.id, { container_id: container.id }),
      () => other.containers.files.create(container.id, { file: upload }),
      () => other.containers.files.create(container.id, { file_id: 'file-x' }),
    ]
    for (const call of calls) {
      const error = await errorOf(call())
      expect(error.status).toBe(404)
      expect((error.error as { message: string }).message).toBe(`Container with id '${container.id}' not found.`)
    }
    // a File of another project cannot be copied in
    const theirs = await other.files.create({ file: await toFile(Buffer.from('theirs'), 't.txt'), purpose: 'user_data' })
    expect((await errorOf(client.containers.files.create(container.id, { file_id: theirs.id }))).status).toBe(404)
    expect((await errorOf(client.containers.create({ name: 'x', file_ids: [theirs.id] }))).status).toBe(404)
    expect(await (await client.containers.files.content.retrieve(file.id, { container_id: container.id })).text()).toBe('secret')
  })

  it('copies file_ids in at creation', async () => {
    const a = await client.files.create({ file: await toFile(Buffer.from('1,2'), 'a.csv'), purpose: 'user_data' })
    const container = await client.containers.create({ name: 'with files', file_ids: [a.id] })
    const files = await client.containers.files.list(container.id)
    expect(files.data).toHaveLength(1)
    expectFile(files.data[0], { container_id: container.id, path: '/mnt/data/a.csv', bytes: 3, source: 'user' })
    // the copy is the container's: deleting the File leaves it
    await client.files.delete(a.id)
    expect(await (await client.containers.files.content.retrieve(files.data[0].id, { container_id: container.id })).text()).toBe('1,2')
  })
})
skippedPgCase('the Containers API on postgres')

describe.each(storageCases())('an idle container expires, on $name', ({ create }) => {
  let t: TestApp
  let client: OpenAI
  let cleanup: (() => Promise<void>) | undefined
  beforeAll(async () => {
    const storage = create('containers_expiry')
    cleanup = storage.cleanup
    // one container minute lasts a second here
    t = await createTestApp({ codeInterpreter: { containerMinuteMs: 1000 } }, { storage: storage.config })
    client = t.client()
  })
  afterAll(async () => {
    await t?.close()
    await cleanup?.()
  })

  it('the sweep takes the files of a container that expired unread', async () => {
    const container = await client.containers.create({ name: 'forgotten', expires_after: { anchor: 'last_active_at', minutes: 1 } })
    const file = await client.containers.files.create(container.id, { file: await toFile(Buffer.from('x'), 'x.txt') })
    const live = await client.containers.create({ name: 'live' })
    const kept = await client.containers.files.create(live.id, { file: await toFile(Buffer.from('k'), 'k.txt') })
    expect(await t.ctx.services.containers.sweep()).toBe(0)
    await new Promise((resolve) => setTimeout(resolve, 2100))
    expect(await t.ctx.services.containers.sweep()).toBe(1)
    expect(await t.ctx.blobs.size(`containers/${container.id}/${file.id}`)).toBeUndefined()
    expect(await t.ctx.services.containers.sweep()).toBe(0)
    expect((await client.containers.retrieve(container.id)).status).toBe('expired')
    expect(await (await client.containers.files.content.retrieve(kept.id, { container_id: live.id })).text()).toBe('k')
  })

  it('shows expired and refuses use with OpenAI\'s 400; its files are gone', async () => {
    const container = await client.containers.create({ name: 'short', expires_after: { anchor: 'last_active_at', minutes: 1 } })
    const file = await client.containers.files.create(container.id, { file: await toFile(Buffer.from('x'), 'x.txt') })
    expect((await client.containers.retrieve(container.id)).status).toBe('running')
    await new Promise((resolve) => setTimeout(resolve, 2100))
    const expired = await client.containers.retrieve(container.id)
    expectContainer(expired, { name: 'short', minutes: 1, status: 'expired' })
    expect((await client.containers.list()).data.find((c) => c.id === container.id)).toEqual(expired)
    const upload = await toFile(Buffer.from('y'), 'y.txt')
    const refusals: (() => Promise<unknown>)[] = [
      () => client.containers.files.create(container.id, { file: upload }),
      () => client.containers.files.list(container.id),
      () => client.containers.files.retrieve(file.id, { container_id: container.id }),
      () => client.containers.files.content.retrieve(file.id, { container_id: container.id }),
      () => client.responses.create({ model: 'test-scripted', input: 'hi', tools: [{ type: 'code_interpreter', container: container.id }] }),
    ]
    for (const call of refusals) {
      const error = await errorOf(call())
      expect(error.status).toBe(400)
      expect(error.error).toEqual({ message: 'Container is expired.', type: 'invalid_request_error', param: null, code: null })
    }
    const blobs = await t.ctx.blobs.size(`containers/${container.id}/${file.id}`)
    expect(blobs).toBeUndefined()
    // still deletable
    await client.containers.delete(container.id)
    expect((await client.containers.list()).data.map((c) => c.id)).not.toContain(container.id)
  })

  it('a Responses request naming an unknown or another project\'s container: 404 before the model runs', async () => {
    const other = await otherProjectClient(t)
    const theirs = await other.containers.create({ name: 'theirs' })
    for (const id of ['cntr_nope', theirs.id]) {
      const error = await errorOf(client.responses.create({ model: 'test-scripted', input: 'hi', tools: [{ type: 'code_interpreter', container: id }] }))
      expect(error.status).toBe(404)
      expect(error.error).toEqual({ message: `Container with id '${id}' not found.`, type: 'invalid_request_error', param: null, code: null })
    }
  })
})

function error(e: InstanceType<typeof OpenAI.APIError>) {
  return e.error as { message: string; type: string; param: string | null; code: string | null }
}

skippedPgCase('an idle container expires, on postgres')

describe('containers without the sandbox', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await createTestApp({ codeInterpreter: { enabled: false } })
  })
  afterAll(async () => t?.close())

  it('metadata and files work; code in one fails the response with the sandbox\'s own message', async () => {
    const client = t.client()
    const container = await client.containers.create({ name: 'no sandbox' })
    const file = await client.containers.files.create(container.id, { file: await toFile(Buffer.from('x'), 'x.txt') })
    expect(await (await client.containers.files.content.retrieve(file.id, { container_id: container.id })).text()).toBe('x')
    // not the validating fetch: the spec file has no code_interpreter tool in Responses
    const plain = new OpenAI({ apiKey: PROJECT_KEY, baseURL: `${t.url}/v1`, maxRetries: 0 })
    const response = await plain.responses.create({ model: 'test-scripted', input: 'Run:\n```python\nprint(1)\n```', tools: [{ type: 'code_interpreter', container: container.id }] })
    expect(response.status).toBe('failed')
    expect(response.error).toEqual({ code: 'server_error', message: 'The code interpreter is disabled on this server (codeInterpreter.enabled is false).' })
  })
})
