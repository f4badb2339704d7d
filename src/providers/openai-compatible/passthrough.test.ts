import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ProviderError } from '../../errors.js'
import { ChunkRewriter } from './passthrough.js'
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
