import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ProviderError } from '../../errors.js'
import type { GenerateCall, StreamPart } from '../provider.js'
import { OpenAICompatibleProvider } from './provider.js'

/** Serves a recorded fixture (named by the model) a few bytes per write, like a slow network. */
let server: http.Server
let provider: OpenAICompatibleProvider
let lastBody: any
beforeAll(async () => {
  server = http.createServer({ noDelay: true }, (req, res) => {
    let text = ''
    req.on('data', (c) => (text += c))
    req.on('end', async () => {
      lastBody = JSON.parse(text)
      const bytes = fs.readFileSync(path.join(import.meta.dirname, '__fixtures__', lastBody.model))
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      for (let at = 0; at < bytes.length; at += 97) {
        res.write(bytes.subarray(at, at + 97))
        await new Promise((resolve) => setImmediate(resolve))
      }
      res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const upstream = {
    id: 'stub',
    baseURL: `http://127.0.0.1:${port}/v1/`,
    timeoutMs: 5000,
    connectTimeoutMs: 1000,
    headers: { 'x-extra': '1' },
  }
  provider = new OpenAICompatibleProvider(upstream, 'sk-stub')
})
afterAll(async () => {
  await provider.close()
  server.closeAllConnections()
  server.close()
})

function call(model: string, raw: Record<string, unknown> = {}, prompt?: string): GenerateCall {
  return { model, prompt, sampling: { n: 1 }, raw, signal: new AbortController().signal }
}

async function collect(parts: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const out: StreamPart[] = []
  for await (const part of parts) out.push(part)
  return out
}

describe('OpenAICompatibleProvider.stream over recorded upstream streams', () => {
  it('passes the body through and yields parts, with usage last', async () => {
    const parts = await collect(
      provider.stream(
        call('openai-chat.sse', {
          model: 'public',
          temperature: 0.2,
          store: true,
          stream_options: { include_usage: false },
          user: undefined,
        }),
      ),
    )
    expect(lastBody).toEqual({
      model: 'openai-chat.sse',
      temperature: 0.2,
      stream: true,
      stream_options: { include_usage: true },
    })
    expect(parts.map((p) => p.type)).toEqual([
      'text-delta',
      'text-delta',
      'text-delta',
      'choice-end',
      'usage',
    ])
    expect(parts.at(-1)).toEqual({
      type: 'usage',
      usage: { inputTokens: 19, outputTokens: 10, cachedTokens: 6, reasoningTokens: 3 },
    })
  })

  it('sends a legacy completion to /completions with the prompt', async () => {
    const parts = await collect(
      provider.stream(
        call(
          'vllm-completion-logprobs.sse',
          { model: 'public', echo: true, logprobs: 2 },
          'The capital of France is',
        ),
      ),
    )
    expect(lastBody).toMatchObject({
      prompt: 'The capital of France is',
      logprobs: 2,
      stream: true,
    })
    expect(lastBody.echo).toBeUndefined()
    expect(
      parts
        .filter((p) => p.type === 'text-delta')
        .map((p) => (p as { text: string }).text)
        .join(''),
    ).toBe(' Paris.')
  })

  it('throws a ProviderError for an error event mid-stream, after the parts before it', async () => {
    const seen: StreamPart[] = []
    const error = await (async () => {
      for await (const part of provider.stream(call('llamacpp-error.sse'))) seen.push(part)
    })().catch((e) => e)
    expect(seen).toEqual([{ type: 'text-delta', choice: 0, text: 'Once' }])
    expect(error).toBeInstanceOf(ProviderError)
    expect(error.message).toBe("upstream 'stub' failed mid-stream: context shift is disabled")
  })
})
