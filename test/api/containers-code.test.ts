import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeSandbox, sandboxConfig } from '../helpers/sandbox.js'
import { skippedPgCase, storageCases } from '../helpers/pg.js'
import { createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// Code in containers (docs/code-interpreter.md, "Containers"): Responses' code_interpreter on
// test-scripted (it runs the first ```python block of the message and answers with the output,
// which links each file written as [name](sandbox:/mnt/data/name)), then the files listed and
// downloaded through containers.files. The spec file has neither Containers nor code_interpreter
// in Responses, so the client is the plain SDK and shapes are checked field by field.

const python = (code: string) => `Run this:\n\`\`\`python\n${code}\n\`\`\``

for (const { name, create } of storageCases()) {
  describeSandbox(`code in containers on ${name}`, () => {
    let t: TestApp
    let client: OpenAI
    let cleanup: (() => Promise<void>) | undefined
    beforeAll(async () => {
      const storage = create('containers_code')
      cleanup = storage.cleanup
      t = await createTestApp({ codeInterpreter: sandboxConfig({ spareKernels: 0 }) }, { transport: 'http', storage: storage.config })
      client = new OpenAI({ apiKey: PROJECT_KEY, baseURL: `${t.url}/v1`, maxRetries: 0 })
    })
    afterAll(async () => {
      await t?.close()
      await cleanup?.()
    })

    it('an auto container: the file the code wrote is listed, downloaded and cited in the answer', async () => {
      const response = await client.responses.create({
        model: 'test-scripted',
        input: python("open('report.csv', 'w').write('city,n\\nOslo,3\\n')\nprint('saved')"),
        tools: [{ type: 'code_interpreter', container: { type: 'auto' } }],
      })
      expect(response.output.map((item) => item.type)).toEqual(['code_interpreter_call', 'message'])
      const call = response.output[0] as OpenAI.Responses.ResponseCodeInterpreterToolCall
      expect(call.status).toBe('completed')
      const containerId = call.container_id
      expect(containerId).toMatch(/^cntr_/)

      const container: OpenAI.Containers.ContainerRetrieveResponse = await client.containers.retrieve(containerId)
      expect(container).toMatchObject({ id: containerId, object: 'container', status: 'running', expires_after: { anchor: 'last_active_at', minutes: 20 } })
      expect((await client.containers.list()).data.map((c) => c.id)).toContain(containerId)

      const files = await client.containers.files.list(containerId)
      expect(files.data).toHaveLength(1)
      const file: OpenAI.Containers.Files.FileListResponse = files.data[0]
      expect(Object.keys(file).sort()).toEqual(['bytes', 'container_id', 'created_at', 'id', 'object', 'path', 'source'])
      expect(file).toMatchObject({ object: 'container.file', container_id: containerId, path: '/mnt/data/report.csv', source: 'assistant', bytes: 14 })
      expect(file.id).toMatch(/^cfile_/)
      const content = await client.containers.files.content.retrieve(file.id, { container_id: containerId })
      expect(await content.text()).toBe('city,n\nOslo,3\n')

      const message = response.output[1] as OpenAI.Responses.ResponseOutputMessage
      const text = message.content[0] as OpenAI.Responses.ResponseOutputText
      const link = 'sandbox:/mnt/data/report.csv'
      const at = text.text.indexOf(link)
      expect(at).toBeGreaterThanOrEqual(0)
      const citation: OpenAI.Responses.ResponseOutputText.ContainerFileCitation = {
        type: 'container_file_citation',
        container_id: containerId,
        file_id: file.id,
        filename: 'report.csv',
        start_index: at,
        end_index: at + link.length,
      }
      expect(text.annotations).toEqual([citation])
      // stored as answered
      const stored = await client.responses.retrieve(response.id)
      expect(((stored.output[1] as OpenAI.Responses.ResponseOutputMessage).content[0] as OpenAI.Responses.ResponseOutputText).annotations).toEqual([citation])
    })

    it('a named container: its uploaded files are the code\'s, and files persist across responses and a sandbox restart', async () => {
      const container = await client.containers.create({ name: 'analysis' })
      const upload = await client.containers.files.create(container.id, { file: await toFile(Buffer.from('1\n2\n3\n'), 'numbers.txt') })
      const tools: OpenAI.Responses.Tool[] = [{ type: 'code_interpreter', container: container.id }]
      const first = await client.responses.create({
        model: 'test-scripted',
        input: python("total = sum(int(x) for x in open('/mnt/data/numbers.txt'))\nopen('total.txt', 'w').write(str(total))\nprint(total)"),
        tools,
      })
      const call = first.output[0] as OpenAI.Responses.ResponseCodeInterpreterToolCall
      expect(call.container_id).toBe(container.id)
      expect(first.output_text).toContain('6')
      const listed = (await client.containers.files.list(container.id, { order: 'asc' })).data
      expect(listed.map((f) => [f.path, f.source])).toEqual([
        ['/mnt/data/numbers.txt', 'user'],
        ['/mnt/data/total.txt', 'assistant'],
      ])
      expect(listed[0].id).toBe(upload.id)

      // the next response in the container reads what the first wrote (the session kept it)
      const second = await client.responses.create({ model: 'test-scripted', input: python("print(open('total.txt').read() + '!')"), tools })
      expect(second.output_text).toContain('6!')
      // the code did not change a file: nothing new is saved
      expect((await client.containers.files.list(container.id)).data).toHaveLength(2)

      // a fresh sandbox process gets the container's files placed again
      await t.ctx.sandbox.end!(container.id)
      const third = await client.responses.create({
        model: 'test-scripted',
        input: python("import os\nprint(sorted(os.listdir('/mnt/data')), open('total.txt').read())"),
        tools,
      })
      expect(third.output_text).toContain("['numbers.txt', 'total.txt'] 6")

      // the code overwrites a file: same container file, new bytes, source assistant
      await client.responses.create({ model: 'test-scripted', input: python("open('numbers.txt', 'w').write('10\\n')"), tools })
      const changed = await client.containers.files.retrieve(upload.id, { container_id: container.id })
      expect(changed).toMatchObject({ id: upload.id, bytes: 3, source: 'assistant' })
      expect(await (await client.containers.files.content.retrieve(upload.id, { container_id: container.id })).text()).toBe('10\n')

      // a file uploaded after the session started reaches it before the next call
      await client.containers.files.create(container.id, { file: await toFile(Buffer.from('late'), 'late.txt') })
      const fourth = await client.responses.create({ model: 'test-scripted', input: python("print(open('late.txt').read())"), tools })
      expect(fourth.output_text).toContain('late')
      // and an upload replacing a file's bytes does too
      await client.containers.files.create(container.id, { file: await toFile(Buffer.from('later'), 'late.txt') })
      const fifth = await client.responses.create({ model: 'test-scripted', input: python("print(open('late.txt').read())"), tools })
      expect(fifth.output_text).toContain('later')
    })

    it('auto file_ids are copied in; streamed, the citation has its annotation.added event', async () => {
      const input = await client.files.create({ file: await toFile(Buffer.from('a,b\n'), 'in.csv'), purpose: 'user_data' })
      const stream = await client.responses.create({
        model: 'test-scripted',
        input: python("import shutil\nshutil.copy('/mnt/data/in.csv', 'copy.csv')"),
        tools: [{ type: 'code_interpreter', container: { type: 'auto', file_ids: [input.id] } }],
        stream: true,
      })
      const events: OpenAI.Responses.ResponseStreamEvent[] = []
      for await (const event of stream) events.push(event)
      const done = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent
      expect(done.type).toBe('response.completed')
      const containerId = (done.response.output[0] as OpenAI.Responses.ResponseCodeInterpreterToolCall).container_id
      const files = (await client.containers.files.list(containerId, { order: 'asc' })).data
      expect(files.map((f) => [f.path, f.source])).toEqual([
        ['/mnt/data/in.csv', 'user'],
        ['/mnt/data/copy.csv', 'assistant'],
      ])
      const added = events.filter((e) => e.type === 'response.output_text.annotation.added') as OpenAI.Responses.ResponseOutputTextAnnotationAddedEvent[]
      expect(added).toHaveLength(1)
      expect(added[0]).toMatchObject({ annotation_index: 0, content_index: 0, output_index: 1, annotation: { type: 'container_file_citation', container_id: containerId, file_id: files[1].id, filename: 'copy.csv' } })
      expect(await (await client.containers.files.content.retrieve(files[1].id, { container_id: containerId })).text()).toBe('a,b\n')
    })

    it('deleting a container ends its session; naming it afterwards is a 404', async () => {
      const container = await client.containers.create({ name: 'short-lived' })
      const tools: OpenAI.Responses.Tool[] = [{ type: 'code_interpreter', container: container.id }]
      await client.responses.create({ model: 'test-scripted', input: python('x = 1'), tools })
      await client.containers.delete(container.id)
      const error = await client.responses.create({ model: 'test-scripted', input: python('print(x)'), tools }).catch((e) => e)
      expect(error).toBeInstanceOf(OpenAI.NotFoundError)
      expect(error.error).toEqual({ message: `Container with id '${container.id}' not found.`, type: 'invalid_request_error', param: null, code: null })
    })
  })
}
skippedPgCase('code in containers on postgres')
