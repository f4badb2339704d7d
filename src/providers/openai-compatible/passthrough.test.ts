import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { ProviderError } from '../../errors.js'
import { chatAnswer, ChunkRewriter, passthroughStream } from './passthrough.js'
import { SseParser } from './sse-parse.js'

const identity = { id: 'chatcmpl-plinth1', model: 'my-alias', object: 'chat.completion.chunk' } as const

function chunk(fields: Record<string, unknown>): string {
  return JSON.stringify({ id: 'chatcmpl-up', object: 'chat.completion.chunk', created: 1, model: 'up-model', ...fields })
}
const delta = (content: string, finish: string | null = null) => ({ choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: finish }] })

describe('ChunkRewriter: upstream chunks → Plinth chunks', () => {
  it('swaps the id and the model and keeps every other byte, on the first chunk and the fast path after it', () => {
    const rewriter = new ChunkRewriter('up', identity)
    const first = chunk(delta('Hel'))
    const second = chunk(delta('lo'))
    for (const text of [first, second]) {
      const out = rewriter.rewrite(text)!
      expect(JSON.parse(out)).toEqual({ ...JSON.parse(text), id: 'chatcmpl-plinth1', model: 'my-alias' })
    }
    // the fast path is a string edit: the key order of the upstream stays
    expect(rewriter.rewrite(second)).toBe(second.replace('"chatcmpl-up"', '"chatcmpl-plinth1"').replace('"up-model"', '"my-alias"'))
  })

  it('never touches look-alikes inside strings: content that quotes the keys stays as it was', () => {
    const rewriter = new ChunkRewriter('up', identity)
    rewriter.rewrite(chunk(delta('')))
    const tricky = '{"model":"up-model","usage":{"x":1},"error":"no","finish_reason":"eos"} "id":"chatcmpl-up"'
    const out = JSON.parse(rewriter.rewrite(chunk(delta(tricky)))!)
    expect(out.choices[0].delta.content).toBe(tricky)
    expect(out.model).toBe('my-alias')
    expect(rewriter.usage).toBeUndefined()
  })

  it('takes usage out: a usage-only chunk is dropped, usage on a content chunk is removed; both are kept as the usage', () => {
    const rewriter = new ChunkRewriter('up', identity)
    rewriter.rewrite(chunk(delta('a')))
    const withUsage = rewriter.rewrite(chunk({ ...delta('b'), usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } }))!
    expect(JSON.parse(withUsage)).not.toHaveProperty('usage')
    expect(rewriter.usage).toEqual({ inputTokens: 3, outputTokens: 1 })
    const usageOnly = chunk({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5, prompt_tokens_details: { cached_tokens: 2 } } })
    expect(rewriter.rewrite(usageOnly)).toBeUndefined()
    expect(rewriter.usage).toEqual({ inputTokens: 3, outputTokens: 2, cachedTokens: 2 })
  })

  it("normalises what OpenAI's schema requires: unknown finish reasons read as stop, missing index and finish_reason filled", () => {
    const rewriter = new ChunkRewriter('up', identity)
    rewriter.rewrite(chunk(delta('a')))
    expect(JSON.parse(rewriter.rewrite(chunk(delta('', 'eos')))!).choices[0].finish_reason).toBe('stop')
    const bare = JSON.parse(rewriter.rewrite(JSON.stringify({ id: 'chatcmpl-up', model: 'up-model', choices: [{ delta: { content: 'x' } }] }))!)
    expect(bare).toMatchObject({ id: 'chatcmpl-plinth1', object: 'chat.completion.chunk', model: 'my-alias', choices: [{ index: 0, delta: { content: 'x' }, finish_reason: null }] })
    expect(typeof bare.created).toBe('number')
  })

  it('reads chunks with other whitespace and key order the slow way, to the same content', () => {
    const rewriter = new ChunkRewriter('up', identity)
    rewriter.rewrite(chunk(delta('a')))
    const spaced = '{"model": "up-model", "id": "chatcmpl-up", "object": "chat.completion.chunk", "created": 1, "choices": [{"index": 0, "delta": {"content": "b"}, "finish_reason": null}]}'
    expect(JSON.parse(rewriter.rewrite(spaced)!)).toEqual({ ...JSON.parse(spaced), id: 'chatcmpl-plinth1', model: 'my-alias' })
  })

  it('turns an error chunk into a ProviderError', () => {
    const rewriter = new ChunkRewriter('up', identity)
    expect(() => rewriter.rewrite(JSON.stringify({ error: { message: 'overloaded', type: 'server_error' } }))).toThrow(ProviderError)
  })

  it('forwards every fixture stream to the same content as the upstream sent, ids and models swapped', () => {
    for (const name of fs.readdirSync(path.join(import.meta.dirname, '__fixtures__')).filter((f) => f.endsWith('.sse'))) {
      const legacy = name.includes('completion') && !name.includes('chat')
      const rewriter = new ChunkRewriter('up', { ...identity, object: legacy ? 'text_completion' : 'chat.completion.chunk' })
      const parser = new SseParser()
      const bytes = fs.readFileSync(path.join(import.meta.dirname, '__fixtures__', name))
      for (const message of [...parser.push(bytes), ...parser.end()]) {
        if (message.data === '[DONE]' || message.event === 'error') continue
        let text: string | undefined
        try {
          text = rewriter.rewrite(message.data)
        } catch (error) {
          expect(error, name).toBeInstanceOf(ProviderError)
          continue
        }
        if (text === undefined) continue
        const out = JSON.parse(text)
        expect(out.id, name).toBe('chatcmpl-plinth1')
        expect(out.model, name).toBe('my-alias')
        expect(out.usage ?? null, name).toBeNull()
        for (const choice of out.choices) expect([null, 'stop', 'length', 'tool_calls', 'content_filter', 'function_call']).toContain(choice.finish_reason)
      }
    }
  })
})

describe('passthroughStream: upstream bytes → frames', () => {
  const fixtures = fs.readdirSync(path.join(import.meta.dirname, '__fixtures__')).filter((f) => f.endsWith('.sse'))

  /** The stream's frames for the fixture's bytes cut into reads at `cuts`, and its error if any. */
  async function frames(bytes: Buffer, cuts: number[], legacy: boolean) {
    const reads: Buffer[] = []
    let at = 0
    for (const cut of [...cuts, bytes.length]) {
      reads.push(bytes.subarray(at, cut))
      at = cut
    }
    const exchange = {
      body: (async function* () {
        yield* reads
      })(),
      fail: (error: unknown) => error,
      dispose: () => {},
    }
    const rewriter = new ChunkRewriter('up', { ...identity, object: legacy ? 'text_completion' : 'chat.completion.chunk' })
    const stream = passthroughStream('up', async () => exchange as never, rewriter, legacy)
    let out = ''
    let error: unknown
    try {
      for await (const item of stream) out += item
    } catch (e) {
      error = e
    }
    const parser = new SseParser()
    const events = [...parser.push(out), ...parser.end()].map((m) => JSON.parse(m.data))
    return { events, error, usage: stream.usage(() => ({ inputTokens: -1, outputTokens: -1 })) }
  }

  /** Event by event through ChunkRewriter.rewrite: what the bulk path must equal. */
  function reference(bytes: Buffer, legacy: boolean) {
    const rewriter = new ChunkRewriter('up', { ...identity, object: legacy ? 'text_completion' : 'chat.completion.chunk' })
    const parser = new SseParser()
    const events: unknown[] = []
    for (const message of [...parser.push(bytes), ...parser.end()]) {
      if (message.data === '[DONE]' || message.data === '') continue
      if (message.event === 'error') return { events, failed: true }
      try {
        const text = rewriter.rewrite(message.data)
        if (text !== undefined) events.push(JSON.parse(text))
      } catch {
        return { events, failed: true }
      }
    }
    return { events, failed: false }
  }

  for (const name of fixtures) {
    it(`${name}: the same chunks whatever the reads, in bulk or event by event`, async () => {
      const bytes = fs.readFileSync(path.join(import.meta.dirname, '__fixtures__', name))
      const legacy = name.includes('completion') && !name.includes('chat')
      const expected = reference(bytes, legacy)
      // one read, byte by byte, and cuts at every 7th byte (inside events, inside UTF-8 sequences)
      const splits = [[], Array.from({ length: bytes.length - 1 }, (_, i) => i + 1), Array.from({ length: Math.floor(bytes.length / 7) }, (_, i) => (i + 1) * 7)]
      for (const cuts of splits) {
        const got = await frames(bytes, cuts, legacy)
        expect(got.events, `${name} cut into ${cuts.length + 1} reads`).toEqual(expected.events)
        expect(got.error !== undefined, name).toBe(expected.failed)
      }
    })
  }

  it('rewrites a run of plain chunks in bulk, splitting off the usage chunk and [DONE]', async () => {
    const up = (i: number) => `data: ${chunk(delta(`t${i}`))}\n\n`
    const body = Buffer.from(
      Array.from({ length: 20 }, (_, i) => up(i)).join('') +
        `data: ${chunk({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 20, total_tokens: 25 } })}\n\ndata: [DONE]\n\n`,
    )
    const oneByOne = vi.spyOn(ChunkRewriter.prototype, 'rewrite')
    const got = await frames(body, [], false)
    // the first chunk (to learn the upstream's names) and the usage chunk; the other 19 in bulk
    expect(oneByOne).toHaveBeenCalledTimes(2)
    oneByOne.mockRestore()
    expect(got.events).toHaveLength(20)
    expect(got.events.every((e) => e.id === 'chatcmpl-plinth1' && e.model === 'my-alias')).toBe(true)
    expect(got.events.map((e) => e.choices[0].delta.content).join('')).toBe(Array.from({ length: 20 }, (_, i) => `t${i}`).join(''))
    expect(got.usage).toEqual({ inputTokens: 5, outputTokens: 20 })
  })

  it('counts usage from the chunks when the upstream never reports it', async () => {
    const body = Buffer.from(`data: ${chunk(delta('Hello'))}\n\ndata: ${chunk(delta(' world', 'stop'))}\n\ndata: [DONE]\n\n`)
    const rewriter = new ChunkRewriter('up', identity)
    const exchange = { body: (async function* () { yield body })(), fail: (e: unknown) => e, dispose: () => {} }
    const stream = passthroughStream('up', async () => exchange as never, rewriter, false)
    for await (const item of stream) void item
    let seen: string[] = []
    expect(stream.usage((parts) => ((seen = parts.map((p) => (p.type === 'text-delta' ? p.text : p.type))), { inputTokens: 1, outputTokens: 2 }))).toEqual({ inputTokens: 1, outputTokens: 2 })
    expect(seen).toEqual(['Hello', ' world', 'choice-end'])
  })

  it('reads odd single events as the full parser does: empty data (skipped), comments, other fields, no space, two data lines', async () => {
    const odd = [
      `data: ${chunk(delta('a'))}\n\n`,
      'data: \n\n',
      ': keep-alive\n\n',
      `data:${chunk(delta('b'))}\n\n`,
      `id: 7\ndata: ${chunk(delta('c'))}\n\n`,
      `data: ${chunk(delta('d'))}\ndata: \n\n`,
      `event: message\ndata: ${chunk(delta('e'))}\n\n`,
      `data: ${chunk({ choices: [], usage: { prompt_tokens: 1, completion_tokens: 5, total_tokens: 6 } })}\n\n`,
      'data: [DONE]\n\n',
    ]
    const body = Buffer.from(odd.join(''))
    const expected = reference(body, false)
    expect(expected.failed).toBe(false)
    for (const cuts of [[], [3, 40, 41, 90]]) {
      const got = await frames(body, cuts, false)
      expect(got.events).toEqual(expected.events)
      expect(got.error).toBeUndefined()
      expect(got.usage).toEqual({ inputTokens: 1, outputTokens: 5 })
    }
    expect(expected.events.map((e) => (e as { choices: { delta: { content: string } }[] }).choices[0].delta.content)).toEqual(['a', 'b', 'c', 'd', 'e'])
  })

  it('hands an upstream with CRLF line ends to the full SSE parser', async () => {
    const body = Buffer.from(`data: ${chunk(delta('a'))}\r\n\r\ndata: ${chunk(delta('b'))}\r\n\r\n: comment\r\n\r\ndata: [DONE]\r\n\r\n`)
    const got = await frames(body, [10, 200], false)
    expect(got.events.map((e) => e.choices[0].delta.content)).toEqual(['a', 'b'])
  })
})

describe('chatAnswer: a non-streamed upstream answer → Plinth’s', () => {
  it("renames it, fills what OpenAI's schema requires, maps finish reasons and keeps the rest", () => {
    const upstream = {
      id: 'chatcmpl-up',
      object: 'chat.completion',
      created: 5,
      model: 'llama3:8b',
      system_fingerprint: 'fp_ollama',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'Hi', annotations: [{ type: 'x' }] }, finish_reason: 'eos' },
        { message: { tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] }, finish_reason: 'tool_calls' },
      ],
      usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 },
    }
    const answer = chatAnswer(upstream, { id: 'chatcmpl-plinth1', model: 'my-alias' })
    expect(answer.body).toEqual({
      id: 'chatcmpl-plinth1',
      object: 'chat.completion',
      created: 5,
      model: 'my-alias',
      system_fingerprint: 'fp_ollama',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'Hi', refusal: null, annotations: [{ type: 'x' }] }, logprobs: null, finish_reason: 'stop' },
        {
          index: 1,
          message: { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
    })
    expect(answer.usage).toEqual({ inputTokens: 4, outputTokens: 2 })
  })

  it('gives the parts to count from when the upstream reports no usage', () => {
    const answer = chatAnswer({ choices: [{ message: { content: 'Hello there' }, finish_reason: 'stop' }] }, { id: 'a', model: 'b' })
    expect(answer.usage).toBeUndefined()
    expect(answer.parts()).toEqual([
      { type: 'text-delta', choice: 0, text: 'Hello there' },
      { type: 'choice-end', choice: 0, finishReason: 'stop' },
    ])
    expect(typeof answer.body.created).toBe('number')
  })
})
