import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nowSeconds } from '../../src/storage/ids.js'
import { otherProjectClient } from '../helpers/other-project.js'
import { ADMIN_KEY, createTestApp, type TestApp } from '../helpers/test-context.js'

const MAX_LINE = 4000
let t: TestApp
let client: OpenAI
beforeAll(async () => {
  t = await createTestApp({ batches: { maxLineBytes: MAX_LINE } })
  client = t.client()
  t.ctx.jobs.start()
})
afterAll(async () => t.close())

type Line = Record<string, unknown>

const chatLine = (custom_id: string, content: string, extra: Line = {}) => ({
  custom_id,
  method: 'POST',
  url: '/v1/chat/completions',
  body: { model: 'test-echo', messages: [{ role: 'user', content }], ...extra },
})

async function inputFile(lines: (Line | string)[], filename = 'input.jsonl') {
  const text = lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n'
  return client.files.create({ file: await toFile(Buffer.from(text), filename), purpose: 'batch' })
}

async function createBatch(lines: (Line | string)[], endpoint = '/v1/chat/completions' as const) {
  const file = await inputFile(lines)
  return client.batches.create({ input_file_id: file.id, endpoint, completion_window: '24h' })
}

async function waitFor(id: string, statuses: string[], timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const batch = await client.batches.retrieve(id)
    if (statuses.includes(batch.status)) return batch
    if (Date.now() > deadline) throw new Error(`batch ${id} still ${batch.status}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

async function readJsonl(fileId: string): Promise<any[]> {
  const text = await (await client.files.content(fileId)).text()
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l))
}

describe('batches: create, run, output', () => {
  it('runs /v1/responses lines through the Responses API, stored and billed as batch usage', async () => {
    const responseLine = (custom_id: string, body: Line) => ({ custom_id, method: 'POST', url: '/v1/responses', body })
    const created = await createBatch(
      [
        responseLine('r-1', { model: 'test-echo', input: 'batched response one', instructions: 'be kind' }),
        responseLine('r-2', { model: 'test-echo', input: [{ role: 'user', content: 'batched response two' }], store: false }),
        responseLine('r-3', { model: 'test-echo', input: 'x', background: true }),
        responseLine('r-4', { model: 'test-echo', input: 'x', previous_response_id: 'resp_nope' }),
      ],
      '/v1/responses' as '/v1/chat/completions',
    )
    const done = await waitFor(created.id, ['completed', 'failed'])
    expect(done).toMatchObject({ status: 'completed', endpoint: '/v1/responses', request_counts: { total: 4, completed: 2, failed: 2 } })
    const out = Object.fromEntries((await readJsonl(done.output_file_id!)).map((l) => [l.custom_id, l]))
    expect(out['r-1'].response.status_code).toBe(200)
    expect(out['r-1'].response.body).toMatchObject({ object: 'response', status: 'completed', instructions: 'be kind' })
    expect(out['r-1'].response.body.output[0].content[0].text).toBe('batched response one')
    expect(out['r-2'].response.body).toMatchObject({ store: false })
    // a stored line's response is the project's, like any other
    const stored = await client.responses.retrieve(out['r-1'].response.body.id)
    expect(stored.output_text).toBe('batched response one')
    const errors = Object.fromEntries((await readJsonl(done.error_file_id!)).map((l) => [l.custom_id, l]))
    expect(errors['r-3'].response).toMatchObject({ status_code: 400, body: { error: { param: 'body.background' } } })
    expect(errors['r-4'].response).toMatchObject({ status_code: 400, body: { error: { code: 'previous_response_not_found' } } })
  })

  it('runs chat lines through the live code and writes each custom_id once to the output file', async () => {
    const lines = Array.from({ length: 25 }, (_, i) => chatLine(`req-${i}`, `hello number ${i}`))
    const file = await inputFile(lines)
    const before = nowSeconds()
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { job: 'nightly' },
    })
    expect(created).toEqual({
      id: expect.stringMatching(/^batch_[A-Za-z0-9]{20,}$/),
      object: 'batch',
      endpoint: '/v1/chat/completions',
      input_file_id: file.id,
      completion_window: '24h',
      status: 'validating',
      created_at: expect.any(Number),
      expires_at: created.created_at + 86400,
      request_counts: { total: 0, completed: 0, failed: 0 },
      metadata: { job: 'nightly' },
      usage: expect.objectContaining({ total_tokens: 0 }),
    })
    expect(created.created_at).toBeGreaterThanOrEqual(before)

    const done = await waitFor(created.id, ['completed', 'failed'])
    expect(done.status).toBe('completed')
    expect(done.request_counts).toEqual({ total: 25, completed: 25, failed: 0 })
    expect(done.errors).toBeUndefined()
    expect(done.error_file_id).toBeUndefined()
    for (const at of ['in_progress_at', 'finalizing_at', 'completed_at'] as const) {
      expect(done[at]).toBeGreaterThanOrEqual(done.created_at)
    }
    expect(done.in_progress_at!).toBeLessThanOrEqual(done.finalizing_at!)
    expect(done.finalizing_at!).toBeLessThanOrEqual(done.completed_at!)
    expect(done.failed_at).toBeUndefined()

    const output = await client.files.retrieve(done.output_file_id!)
    expect(output).toMatchObject({ purpose: 'batch_output', filename: `${done.id}_output.jsonl` })
    const results = await readJsonl(done.output_file_id!)
    expect(results.map((r) => r.custom_id)).toEqual(lines.map((l) => l.custom_id))
    for (const [i, r] of results.entries()) {
      expect(r).toEqual({
        id: expect.stringMatching(/^batch_req_/),
        custom_id: `req-${i}`,
        response: {
          status_code: 200,
          request_id: expect.stringMatching(/^req_[0-9a-f]{32}$/),
          body: expect.objectContaining({ object: 'chat.completion', model: 'test-echo' }),
        },
        error: null,
      })
      expect(r.response.body.choices[0].message.content).toBe(`hello number ${i}`)
    }
    // the lines' usage is recorded, flagged as batch usage
    const usage = await t.ctx.storage.db
      .selectFrom('usage_records')
      .select(['batch', 'model'])
      .where('batch', '=', 1)
      .execute()
    expect(usage.length).toBeGreaterThanOrEqual(25)
    expect(usage.every((u) => u.model === 'test-echo')).toBe(true)
    // the per-line ledger is gone once the batch has ended
    expect(
      await t.ctx.storage.db
        .selectFrom('batch_lines')
        .selectAll()
        .where('batch_id', '=', done.id)
        .execute(),
    ).toEqual([])
  })

  it('runs /v1/embeddings and /v1/completions batches', async () => {
    const embed = await createBatch(
      ['a', 'b'].map((text) => ({
        custom_id: text,
        method: 'POST',
        url: '/v1/embeddings',
        body: { model: 'test-embed', input: text, dimensions: 8 },
      })),
      '/v1/embeddings' as any,
    )
    const completions = await createBatch(
      ['one', 'two'].map((prompt) => ({
        custom_id: prompt,
        method: 'POST',
        url: '/v1/completions',
        body: { model: 'test-scripted', prompt, max_tokens: 5 },
      })),
      '/v1/completions' as any,
    )
    const embedDone = await waitFor(embed.id, ['completed', 'failed'])
    expect(embedDone.request_counts).toEqual({ total: 2, completed: 2, failed: 0 })
    const vectors = await readJsonl(embedDone.output_file_id!)
    expect(vectors.map((v) => v.custom_id)).toEqual(['a', 'b'])
    expect(vectors[0].response.body).toMatchObject({ object: 'list', model: 'test-embed' })
    expect(vectors[0].response.body.data[0].embedding).toHaveLength(8)

    const completionsDone = await waitFor(completions.id, ['completed', 'failed'])
    expect(completionsDone.status).toBe('completed')
    const texts = await readJsonl(completionsDone.output_file_id!)
    expect(texts.map((v) => v.response.body.object)).toEqual(['text_completion', 'text_completion'])
  })

  it('runs /v1/moderations batches (the SDK lists the endpoint), and names the model on the batch', async () => {
    const line = (custom_id: string, input: unknown) => ({
      custom_id,
      method: 'POST',
      url: '/v1/moderations',
      body: { model: 'omni-moderation-latest', input },
    })
    const created = await createBatch(
      [line('calm', 'I love sunny mornings.'), line('parts', [{ type: 'text', text: 'I will kill you' }])],
      '/v1/moderations' as any,
    )
    expect(created.endpoint).toBe('/v1/moderations')
    expect(created.model).toBeUndefined()
    const done = await waitFor(created.id, ['completed', 'failed'])
    expect(done.errors).toBeUndefined()
    expect(done.request_counts).toEqual({ total: 2, completed: 2, failed: 0 })
    expect(done.model).toBe('omni-moderation-latest')
    const results = await readJsonl(done.output_file_id!)
    expect(results.map((r) => r.custom_id)).toEqual(['calm', 'parts'])
    for (const r of results) {
      expect(r.response.status_code).toBe(200)
      expect(r.response.body).toMatchObject({ id: expect.stringMatching(/^modr-/), model: 'lexicon-moderation' })
    }
    expect(results.map((r) => r.response.body.results[0].flagged)).toEqual([false, true])
    // a moderation line without its input fails validation, as embeddings lines do
    const bad = await createBatch(
      [{ custom_id: 'x', method: 'POST', url: '/v1/moderations', body: { model: 'omni-moderation-latest' } }],
      '/v1/moderations' as any,
    )
    const failed = await waitFor(bad.id, ['completed', 'failed'])
    expect(failed.errors?.data).toEqual([
      { code: 'invalid_request', line: 1, message: 'Input parameter is required.', param: 'body.input' },
    ])
  })

  it("usage adds up the tokens of the lines run, as the SDK's Batch.usage has them", async () => {
    const created = await createBatch([chatLine('a', 'one two three'), chatLine('b', 'four'), chatLine('c', 'x', { temperature: 9 })])
    const zero = { input_tokens: 0, input_tokens_details: { cached_tokens: 0 }, output_tokens: 0, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 0 }
    expect(created.usage).toEqual(zero)
    const done = await waitFor(created.id, ['completed', 'failed'])
    const bodies = (await readJsonl(done.output_file_id!)).map((l) => l.response.body)
    const input = bodies.reduce((n, b) => n + b.usage.prompt_tokens, 0)
    const output = bodies.reduce((n, b) => n + b.usage.completion_tokens, 0)
    expect(input).toBeGreaterThan(0)
    expect(done.usage).toEqual({ ...zero, input_tokens: input, output_tokens: output, total_tokens: input + output })
    expect((await client.batches.list()).data.find((b) => b.id === done.id)!.usage).toEqual(done.usage)
  })

  it('output_expires_after sets the lifetime of the output and error files', async () => {
    const input = await inputFile([chatLine('ok', 'fine'), chatLine('bad', 'x', { temperature: 9 })])
    const created = await client.batches.create({
      input_file_id: input.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      output_expires_after: { anchor: 'created_at', seconds: 7200 },
    })
    const done = await waitFor(created.id, ['completed', 'failed'])
    expect(done.model).toBe('test-echo')
    for (const id of [done.output_file_id!, done.error_file_id!]) {
      const file = await client.files.retrieve(id)
      expect(file.expires_at).toBe(file.created_at + 7200)
    }
    // without it the files stay until deleted, as before
    const plain = await waitFor((await createBatch([chatLine('a', 'a')])).id, ['completed', 'failed'])
    expect((await client.files.retrieve(plain.output_file_id!)).expires_at).toBeUndefined()
    await expect(
      client.batches.create({
        input_file_id: input.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        output_expires_after: { anchor: 'created_at', seconds: 60 },
      }),
    ).rejects.toMatchObject({
      status: 400,
      error: { param: 'output_expires_after.seconds', code: 'integer_below_min_value' },
    })
  })

  it('a line the endpoint refuses goes to the error file with the live error; the rest completes', async () => {
    const batch = await createBatch([
      chatLine('good', 'fine'),
      chatLine('refused', 'give me json', { response_format: { type: 'json_object' } }),
      chatLine('unknown-arg', 'hi', { temperature: 'hot' }),
      chatLine('also-good', 'fine too'),
    ])
    const done = await waitFor(batch.id, ['completed', 'failed'])
    expect(done.status).toBe('completed')
    expect(done.request_counts).toEqual({ total: 4, completed: 2, failed: 2 })
    expect((await readJsonl(done.output_file_id!)).map((r) => r.custom_id)).toEqual([
      'good',
      'also-good',
    ])
    const errors = await readJsonl(done.error_file_id!)
    expect(errors.map((r) => r.custom_id)).toEqual(['refused', 'unknown-arg'])
    expect(errors[0]).toEqual({
      id: expect.stringMatching(/^batch_req_/),
      custom_id: 'refused',
      response: {
        status_code: 400,
        request_id: expect.stringMatching(/^req_/),
        body: {
          error: {
            message: "Unsupported parameter: 'response_format' is not supported with this model.",
            type: 'invalid_request_error',
            param: 'response_format',
            code: 'unsupported_parameter',
          },
        },
      },
      error: null,
    })
    expect(errors[1].response.body.error).toMatchObject({
      param: 'temperature',
      code: 'invalid_type',
    })
    expect((await client.files.retrieve(done.error_file_id!)).filename).toBe(
      `${done.id}_error.jsonl`,
    )
  })
})

describe('batches: input validation (errors.md F10)', () => {
  it('fails the batch with one error per bad line, naming the line', async () => {
    const { custom_id: _, ...noCustomId } = chatLine('x', 'a')
    const batch = await createBatch([
      chatLine('ok-1', 'fine'),
      '{not json',
      noCustomId,
      { ...chatLine('get', 'a'), method: 'GET' },
      { ...chatLine('wrong-url', 'a'), url: '/v1/embeddings' },
      chatLine('ok-1', 'duplicate'),
      chatLine('streamed', 'a', { stream: true }),
      { ...chatLine('no-model', 'a'), body: { messages: [] } },
      { ...chatLine('bad-model', 'a'), body: { model: 'nope', messages: [] } },
      { ...chatLine('no-messages', 'a'), body: { model: 'test-echo' } },
      chatLine('too-big', 'x'.repeat(MAX_LINE)),
      '',
      { ...chatLine('other-model', 'a'), body: { model: 'test-scripted', messages: [] } },
      { custom_id: 'no-body', method: 'POST', url: '/v1/chat/completions' },
      '[1, 2]',
    ])
    const failed = await waitFor(batch.id, ['failed', 'completed'])
    expect(failed.status).toBe('failed')
    expect(failed.failed_at).toBeGreaterThanOrEqual(failed.created_at)
    expect(failed.in_progress_at).toBeUndefined()
    expect(failed.output_file_id).toBeUndefined()
    expect(failed.errors).toEqual({
      object: 'list',
      data: [
        {
          line: 2,
          code: 'invalid_json_line',
          message: 'This line is not parseable as valid JSON.',
          param: null,
        },
        {
          line: 3,
          code: 'missing_required_parameter',
          message: "Missing required parameter: 'custom_id'.",
          param: 'custom_id',
        },
        {
          line: 4,
          code: 'invalid_value',
          message: "Invalid value: 'GET'. Supported values are: 'POST'.",
          param: 'method',
        },
        {
          line: 5,
          code: 'invalid_url',
          message: 'The URL provided for this request does not match the batch endpoint.',
          param: 'url',
        },
        {
          line: 6,
          code: 'duplicate_custom_id',
          message:
            "The custom_id 'ok-1' for this request is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.",
          param: 'custom_id',
        },
        {
          line: 7,
          code: 'streaming_unsupported',
          message: 'Chat Completions: Streaming is not supported in the Batch API.',
          param: 'body.stream',
        },
        {
          line: 8,
          code: 'invalid_request',
          message: 'Model parameter is required.',
          param: 'body.model',
        },
        {
          line: 9,
          code: 'model_not_found',
          message: "The provided model 'nope' is not supported by the Batch API.",
          param: 'body.model',
        },
        {
          line: 10,
          code: 'invalid_request',
          message: 'Messages parameter is required.',
          param: 'body.messages',
        },
        {
          line: 11,
          code: 'request_too_large',
          message: expect.stringMatching(
            new RegExp(`^This line is \\d+ bytes, above the limit of ${MAX_LINE} bytes`),
          ),
          param: null,
        },
        {
          line: 13,
          code: 'mismatched_model',
          message:
            "The model 'test-scripted' for this request does not match the rest of the batch. Each batch must contain requests for a single model.",
          param: 'body.model',
        },
        {
          line: 14,
          code: 'missing_required_parameter',
          message: "Missing required parameter: 'body'.",
          param: 'body',
        },
        {
          line: 15,
          code: 'invalid_json_line',
          message: 'This line is not parseable as valid JSON.',
          param: null,
        },
      ],
    })
    // nothing of it ran
    expect(failed.request_counts).toEqual({ total: 0, completed: 0, failed: 0 })
  })

  it("another project's fine-tuned model is not there for this one: model_not_found at validation", async () => {
    const echo = t.ctx.providers.resolve('test-echo')
    const id = 'ft:test-echo:personal::elsewhere'
    t.ctx.providers.addPrivate({ ...echo.card, id }, echo.provider, echo.upstreamModel, ['proj_someone_else'])
    try {
      const batch = await createBatch([chatLine('a', 'hi', { model: id })])
      const done = await waitFor(batch.id, ['completed', 'failed'])
      expect(done.status).toBe('failed')
      expect(done.errors?.data).toEqual([
        { code: 'model_not_found', line: 1, message: `The provided model '${id}' is not supported by the Batch API.`, param: 'body.model' },
      ])
      // granted to this project, the same batch runs
      const { project_id } = await t.ctx.storage.db
        .selectFrom('batches')
        .select('project_id')
        .where('id', '=', batch.id)
        .executeTakeFirstOrThrow()
      t.ctx.providers.setPrivateAccess(id, project_id, true)
      const again = await waitFor((await createBatch([chatLine('a', 'hi', { model: id })])).id, ['completed', 'failed'])
      expect(again.status).toBe('completed')
      expect(again.model).toBe(id)
    } finally {
      t.ctx.providers.removePrivate(id)
    }
  })

  it('an empty input file fails the batch', async () => {
    const failed = await waitFor((await createBatch(['', ''])).id, ['failed', 'completed'])
    expect(failed.errors!.data).toEqual([
      {
        line: null,
        code: 'empty_file',
        message:
          'The batch input file is empty. Please ensure that your batch contains at least one request.',
        param: null,
      },
    ])
  })
})

describe('batches: bad requests', () => {
  it('refuses an input file of another purpose, an unknown file, and an unknown endpoint (F6)', async () => {
    const other = await client.files.create({
      file: await toFile(Buffer.from('x'), 'notes.txt'),
      purpose: 'user_data',
    })
    const create = (input_file_id: string, endpoint: string) =>
      client.batches.create({ input_file_id, endpoint: endpoint as any, completion_window: '24h' })
    await expect(create(other.id, '/v1/chat/completions')).rejects.toMatchObject({
      status: 400,
      error: {
        param: 'input_file_id',
        code: 'invalid_value',
        message: expect.stringContaining("purpose 'user_data'"),
      },
    })
    await expect(create('file-nope', '/v1/chat/completions')).rejects.toMatchObject({
      status: 404,
      error: { message: 'No such File object: file-nope' },
    })
    const input = await inputFile([chatLine('a', 'a')])
    await expect(create(input.id, '/v1/invalid/endpoint')).rejects.toMatchObject({
      status: 400,
      error: {
        message:
          "Invalid value: '/v1/invalid/endpoint'. Supported values are: '/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/responses', and '/v1/moderations'.",
        type: 'invalid_request_error',
        param: 'endpoint',
        code: 'invalid_value',
      },
    })
  })

  it('checks metadata (F7) and completion_window', async () => {
    const input = await inputFile([chatLine('a', 'a')])
    await expect(
      client.batches.create({
        input_file_id: input.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        metadata: { tags: ['tag1', 'tag2'] as any },
      }),
    ).rejects.toMatchObject({
      status: 400,
      error: {
        message: "Invalid type for 'metadata.tags': expected a string, but got an array instead.",
        type: 'invalid_request_error',
        param: 'metadata.tags',
        code: 'invalid_type',
      },
    })
    await expect(
      client.batches.create({
        input_file_id: input.id,
        endpoint: '/v1/chat/completions',
        completion_window: '1h' as any,
      }),
    ).rejects.toMatchObject({
      status: 400,
      error: { param: 'completion_window', code: 'invalid_value' },
    })
  })

  it('unknown batch ids are 404 (F9), for retrieve and cancel', async () => {
    for (const call of [
      () => client.batches.retrieve('batch_nope'),
      () => client.batches.cancel('batch_nope'),
    ]) {
      await expect(call()).rejects.toMatchObject({
        status: 404,
        error: { message: "No batch found with id 'batch_nope'.", type: 'invalid_request_error' },
      })
    }
  })

  it('another project sees none of them; an admin key gets 403', async () => {
    const batch = await createBatch([chatLine('a', 'a')])
    const other = await otherProjectClient(t)
    await expect(other.batches.retrieve(batch.id)).rejects.toMatchObject({ status: 404 })
    await expect(other.batches.cancel(batch.id)).rejects.toMatchObject({ status: 404 })
    expect((await other.batches.list()).data).toEqual([])
    await expect(t.client(ADMIN_KEY).batches.list()).rejects.toMatchObject({ status: 403 })
    await waitFor(batch.id, ['completed'])
  })
})

describe('batches: cancel, list', () => {
  it('cancels a running batch: cancelling, then cancelled with the results so far', async () => {
    // 'go slowly' takes about 1.3 s per line (test/helpers/fixtures/scripted.json)
    const lines = Array.from({ length: 12 }, (_, i) => ({
      ...chatLine(`slow-${i}`, 'go slowly'),
      body: { model: 'test-scripted', messages: [{ role: 'user', content: 'go slowly' }] },
    }))
    const batch = await createBatch(lines)
    const started = Date.now()
    await waitFor(batch.id, ['in_progress'])
    // the first lines finish (4 at a time) before the cancel
    for (;;) {
      const b = await client.batches.retrieve(batch.id)
      if (b.request_counts!.completed > 0) break
      if (Date.now() - started > 15_000) throw new Error('no line finished')
      await new Promise((r) => setTimeout(r, 50))
    }
    const cancelling = await client.batches.cancel(batch.id)
    expect(cancelling.status).toBe('cancelling')
    expect(cancelling.cancelling_at).toBeGreaterThanOrEqual(cancelling.created_at)
    const cancelled = await waitFor(batch.id, ['cancelled'])
    expect(cancelled.cancelled_at).toBeGreaterThanOrEqual(cancelled.cancelling_at!)
    expect(cancelled.completed_at).toBeUndefined()
    const done = cancelled.request_counts!.completed
    expect(done).toBeGreaterThan(0)
    expect(done).toBeLessThan(12)
    const output = await readJsonl(cancelled.output_file_id!)
    expect(output).toHaveLength(done)
    expect(new Set(output.map((r) => r.custom_id)).size).toBe(done)
    expect(cancelled.error_file_id).toBeUndefined()
    // cancelling again is allowed and changes nothing
    expect(await client.batches.cancel(batch.id)).toEqual(cancelled)
  })

  it('a completed batch cannot be cancelled (F8), and clients are told not to retry', async () => {
    const done = await waitFor((await createBatch([chatLine('a', 'a')])).id, ['completed'])
    const response = await t.fetch(`http://plinth.test/v1/batches/${done.id}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${(client as any).apiKey}` },
    })
    expect(response.status).toBe(409)
    expect(response.headers.get('x-should-retry')).toBe('false')
    expect(await response.json()).toEqual({
      error: {
        message: "Cannot cancel a batch with status 'completed'.",
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    })
  })

  it('lists batches newest first, a page at a time', async () => {
    const other = await otherProjectClient(t)
    const file = await other.files.create({
      file: await toFile(Buffer.from(JSON.stringify(chatLine('a', 'a')) + '\n'), 'in.jsonl'),
      purpose: 'batch',
    })
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const b = await other.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      })
      ids.unshift(b.id)
    }
    const first = await other.batches.list({ limit: 2 })
    expect(first.data.map((b) => b.id)).toEqual(ids.slice(0, 2))
    expect(first.has_more).toBe(true)
    const all: string[] = []
    for await (const b of other.batches.list({ limit: 2 })) all.push(b.id)
    expect(all).toEqual(ids)
    const page = await other.batches.list({ after: ids[2], limit: 10 })
    expect(page.data.map((b) => b.id)).toEqual(ids.slice(3))
    expect(page.has_more).toBe(false)
  })
})

describe('batches: completion window', () => {
  it('a batch whose window ends mid-run expires: results so far kept, the rest batch_expired', async () => {
    const lines = Array.from({ length: 10 }, (_, i) => ({
      ...chatLine(`late-${i}`, 'go slowly'),
      body: { model: 'test-scripted', messages: [{ role: 'user', content: 'go slowly' }] },
    }))
    const batch = await createBatch(lines)
    for (;;) {
      const b = await client.batches.retrieve(batch.id)
      if (b.request_counts!.completed > 0) break
      await new Promise((r) => setTimeout(r, 50))
    }
    await t.ctx.storage.db
      .updateTable('batches')
      .set({ expires_at: nowSeconds() - 1 })
      .where('id', '=', batch.id)
      .execute()
    const expired = await waitFor(batch.id, ['expired'])
    expect(expired.expired_at).toBeGreaterThanOrEqual(expired.created_at)
    const { completed, failed, total } = expired.request_counts!
    expect(total).toBe(10)
    expect(completed + failed).toBe(10)
    expect(await readJsonl(expired.output_file_id!)).toHaveLength(completed)
    const errors = await readJsonl(expired.error_file_id!)
    expect(errors).toHaveLength(failed)
    expect(errors[0]).toEqual({
      id: expect.stringMatching(/^batch_req_/),
      custom_id: expect.stringMatching(/^late-/),
      response: null,
      error: {
        code: 'batch_expired',
        message: 'This request could not be executed before the completion window expired.',
      },
    })
  })

  it('the sweep gives a job to an expired batch whose job is gone, which then expires it', async () => {
    const batch = await createBatch([chatLine('a', 'a')])
    await waitFor(batch.id, ['completed'])
    // as if the job had died for good with the batch still in progress
    const db = t.ctx.storage.db
    await db
      .updateTable('batches')
      .set({ status: 'in_progress', completed_at: null, expires_at: nowSeconds() - 1 })
      .where('id', '=', batch.id)
      .execute()
    expect(await t.ctx.services.batches.sweep()).toBe(1)
    expect(await t.ctx.services.batches.sweep()).toBe(0)
    expect((await waitFor(batch.id, ['expired'])).status).toBe('expired')
  })
})

describe('batches: before their job runs', () => {
  // a second app whose runner starts only when the test says so
  let q: TestApp
  beforeAll(async () => {
    q = await createTestApp()
  })
  afterAll(async () => q.close())

  it('a cancel while the job is queued, and an input file deleted before validation', async () => {
    const qc = q.client()
    const upload = async () =>
      qc.files.create({
        file: await toFile(Buffer.from(JSON.stringify(chatLine('a', 'a')) + '\n'), 'in.jsonl'),
        purpose: 'batch',
      })
    const create = async (fileId: string) =>
      qc.batches.create({
        input_file_id: fileId,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      })
    const toCancel = await create((await upload()).id)
    expect((await qc.batches.cancel(toCancel.id)).status).toBe('cancelling')
    const file = await upload()
    const orphan = await create(file.id)
    await qc.files.delete(file.id)
    // a project whose model permissions deny the batch's model
    const denied = await otherProjectClient(q)
    const deniedFile = await denied.files.create({
      file: await toFile(Buffer.from(JSON.stringify(chatLine('a', 'a')) + '\n'), 'in.jsonl'),
      purpose: 'batch',
    })
    const deniedBatch = await denied.batches.create({
      input_file_id: deniedFile.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    })
    const db = q.ctx.storage.db
    const { project_id } = await db
      .selectFrom('batches')
      .select('project_id')
      .where('id', '=', deniedBatch.id)
      .executeTakeFirstOrThrow()
    await db
      .updateTable('projects')
      .set({ model_mode: 'deny_list', model_ids: JSON.stringify(['test-echo']) })
      .where('id', '=', project_id)
      .execute()

    q.ctx.jobs.start()
    const wait = async (id: string, status: string, c = qc) => {
      const deadline = Date.now() + 20_000
      for (;;) {
        const batch = await c.batches.retrieve(id)
        if (batch.status === status) return batch
        if (Date.now() > deadline) throw new Error(`batch ${id} still ${batch.status}`)
        await new Promise((r) => setTimeout(r, 25))
      }
    }
    const cancelled = await wait(toCancel.id, 'cancelled')
    expect(cancelled.output_file_id).toBeUndefined()
    expect(cancelled.request_counts).toEqual({ total: 0, completed: 0, failed: 0 })
    const failed = await wait(orphan.id, 'failed')
    expect(failed.errors!.data).toEqual([
      {
        line: null,
        code: 'invalid_request',
        message: `Cannot find file ${file.id}, or organization ${q.ctx.organization.id} does not have access to it.`,
        param: 'file_id',
      },
    ])
    const deniedDone = await wait(deniedBatch.id, 'failed', denied)
    expect(deniedDone.errors!.data).toEqual([
      {
        line: 1,
        code: 'model_not_found',
        message: "The provided model 'test-echo' is not supported by the Batch API.",
        param: 'body.model',
      },
    ])
  })
})

describe('batches: the enqueued token limit', () => {
  let l: TestApp
  beforeAll(async () => {
    l = await createTestApp({
      rateLimits: { models: { 'test-echo': { batchInputTokensPerDay: 40 } } },
    })
    l.ctx.jobs.start()
  })
  afterAll(async () => l.close())

  it('a batch whose input tokens do not fit the day limit fails with OpenAI message', async () => {
    const lc = l.client()
    const run = async (count: number) => {
      const text = Array.from({ length: count }, (_, i) =>
        JSON.stringify(chatLine(`t-${i}`, 'hi')),
      ).join('\n')
      const file = await lc.files.create({
        file: await toFile(Buffer.from(text), 'in.jsonl'),
        purpose: 'batch',
      })
      let batch = await lc.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      })
      for (let i = 0; i < 800 && !['completed', 'failed'].includes(batch.status); i++) {
        await new Promise((r) => setTimeout(r, 25))
        batch = await lc.batches.retrieve(batch.id)
      }
      return batch
    }
    expect((await run(1)).status).toBe('completed')
    const failed = await run(10)
    expect(failed.status).toBe('failed')
    expect(failed.errors!.data).toEqual([
      {
        line: null,
        code: 'token_limit_exceeded',
        message: `Enqueued token limit reached for test-echo in organization ${l.ctx.organization.id}. Limit: 40 enqueued tokens. Please try again once some in_progress batches have been completed.`,
        param: null,
      },
    ])
  })
})
