import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { StreamPart } from '../provider.js'
import {
  ChatChunkReader,
  chatCompletionParts,
  CompletionChunkReader,
  completionParts,
  toFinishReason,
} from './map-chunk.js'
import { SseParser } from './sse-parse.js'

function readFixture(name: string, reader: ChatChunkReader | CompletionChunkReader): StreamPart[] {
  const parser = new SseParser()
  const bytes = fs.readFileSync(path.join(import.meta.dirname, '__fixtures__', name))
  const parts: StreamPart[] = []
  for (const message of [...parser.push(bytes), ...parser.end()]) {
    if (message.data !== '[DONE]') parts.push(...reader.read(JSON.parse(message.data)))
  }
  return parts
}

describe('chat chunks → StreamParts', () => {
  it('maps text deltas, the finish and the usage chunk (cached and reasoning tokens)', () => {
    const reader = new ChatChunkReader()
    expect(readFixture('openai-chat.sse', reader)).toEqual([
      { type: 'text-delta', choice: 0, text: 'Hello' },
      { type: 'text-delta', choice: 0, text: '! How' },
      { type: 'text-delta', choice: 0, text: ' can I help — café?' },
      { type: 'choice-end', choice: 0, finishReason: 'stop' },
    ])
    expect(reader.usage).toEqual({
      inputTokens: 19,
      outputTokens: 10,
      cachedTokens: 6,
      reasoningTokens: 3,
    })
  })

  it('maps parallel tool calls, naming each once', () => {
    expect(readFixture('openai-chat-tools.sse', new ChatChunkReader())).toEqual([
      {
        type: 'tool-call-delta',
        choice: 0,
        index: 0,
        id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA',
        name: 'get_weather',
        argumentsDelta: '',
      },
      {
        type: 'tool-call-delta',
        choice: 0,
        index: 0,
        id: undefined,
        name: undefined,
        argumentsDelta: '{"location":',
      },
      {
        type: 'tool-call-delta',
        choice: 0,
        index: 0,
        id: undefined,
        name: undefined,
        argumentsDelta: ' "Paris"}',
      },
      {
        type: 'tool-call-delta',
        choice: 0,
        index: 1,
        id: 'call_ABkq0cOwLy4Gm4pD2S4Ag5eL',
        name: 'get_time',
        argumentsDelta: '{"tz":"CET"}',
      },
      { type: 'choice-end', choice: 0, finishReason: 'tool_calls' },
    ])
  })

  it('does not repeat a name that a server sends on every chunk', () => {
    const reader = new ChatChunkReader()
    const chunk = (args: string) => ({
      choices: [
        {
          index: 0,
          delta: { tool_calls: [{ index: 0, id: 'c1', function: { name: 'f', arguments: args } }] },
        },
      ],
    })
    const parts = [...reader.read(chunk('{')), ...reader.read(chunk('}'))]
    expect(parts.map((p) => (p.type === 'tool-call-delta' ? p.name : null))).toEqual([
      'f',
      undefined,
    ])
  })

  it('keeps logprobs with their text delta', () => {
    const parts = readFixture('openai-chat-logprobs.sse', new ChatChunkReader())
    expect(parts).toEqual([
      {
        type: 'text-delta',
        choice: 0,
        text: 'Hi',
        logprobs: [
          {
            token: 'Hi',
            logprob: -0.0031,
            bytes: [72, 105],
            top_logprobs: [
              { token: 'Hi', logprob: -0.0031, bytes: [72, 105] },
              { token: 'Hello', logprob: -5.8, bytes: [72, 101, 108, 108, 111] },
            ],
          },
        ],
      },
      { type: 'choice-end', choice: 0, finishReason: 'length' },
    ])
  })

  it("reads Ollama's stream (role on every chunk, usage without details)", () => {
    const reader = new ChatChunkReader()
    expect(readFixture('ollama-chat.sse', reader)).toEqual([
      { type: 'text-delta', choice: 0, text: 'Sure' },
      { type: 'text-delta', choice: 0, text: '.' },
      { type: 'choice-end', choice: 0, finishReason: 'stop' },
    ])
    expect(reader.usage).toEqual({ inputTokens: 26, outputTokens: 2 })
  })

  it('maps refusals', () => {
    expect(
      new ChatChunkReader().read({ choices: [{ index: 1, delta: { refusal: 'No.' } }] }),
    ).toEqual([{ type: 'refusal-delta', choice: 1, text: 'No.' }])
  })
})

describe('legacy completion chunks → StreamParts', () => {
  it('maps text and legacy logprobs; the last usage wins (vLLM repeats it)', () => {
    const reader = new CompletionChunkReader()
    const parts = readFixture('vllm-completion-logprobs.sse', reader)
    expect(parts).toEqual([
      {
        type: 'text-delta',
        choice: 0,
        text: ' Paris',
        logprobs: [
          {
            token: ' Paris',
            logprob: -0.41,
            bytes: [32, 80, 97, 114, 105, 115],
            top_logprobs: [
              { token: ' Paris', logprob: -0.41, bytes: [32, 80, 97, 114, 105, 115] },
              { token: ' Lyon', logprob: -2.3, bytes: [32, 76, 121, 111, 110] },
            ],
          },
        ],
      },
      {
        type: 'text-delta',
        choice: 0,
        text: '.',
        logprobs: [
          {
            token: '.',
            logprob: -0.02,
            bytes: [46],
            top_logprobs: [{ token: '.', logprob: -0.02, bytes: [46] }],
          },
        ],
      },
      { type: 'choice-end', choice: 0, finishReason: 'length' },
    ])
    expect(reader.usage).toEqual({ inputTokens: 6, outputTokens: 2 })
  })
})

describe('non-streamed answers → StreamParts', () => {
  it('maps a chat completion with text, tool calls, finish and usage', () => {
    const parts = chatCompletionParts({
      choices: [
        { index: 0, message: { role: 'assistant', content: 'Hi there' }, finish_reason: 'stop' },
        {
          index: 1,
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: {
        prompt_tokens: 5,
        completion_tokens: 3,
        prompt_tokens_details: { cached_tokens: 0 },
      },
    })
    expect(parts).toEqual([
      { type: 'text-delta', choice: 0, text: 'Hi there' },
      { type: 'choice-end', choice: 0, finishReason: 'stop' },
      {
        type: 'tool-call-delta',
        choice: 1,
        index: 0,
        id: 'call_1',
        name: 'f',
        argumentsDelta: '{"a":1}',
      },
      { type: 'choice-end', choice: 1, finishReason: 'tool_calls' },
      { type: 'usage', usage: { inputTokens: 5, outputTokens: 3 } },
    ])
  })

  it('maps a legacy completion, defaulting a missing finish to stop', () => {
    expect(completionParts({ choices: [{ index: 0, text: 'abc' }] })).toEqual([
      { type: 'text-delta', choice: 0, text: 'abc' },
      { type: 'choice-end', choice: 0, finishReason: 'stop' },
    ])
  })

  it('reads unknown finish reasons as stop', () => {
    expect(toFinishReason('eos')).toBe('stop')
    expect(toFinishReason('length')).toBe('length')
  })
})
