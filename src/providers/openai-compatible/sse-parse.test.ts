import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseSse, SseParser, type SseMessage } from './sse-parse.js'

const fixture = (name: string) =>
  fs.readFileSync(path.join(import.meta.dirname, '__fixtures__', name))

function parseAll(chunks: (string | Uint8Array)[]): SseMessage[] {
  const parser = new SseParser()
  const out = chunks.flatMap((c) => parser.push(c))
  return [...out, ...parser.end()]
}

/** Cuts bytes into pieces of 1, 2, 3... 7 bytes, so events, lines, CRLFs and UTF-8 split everywhere. */
function pieces(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let at = 0, size = 1; at < bytes.length; at += size, size = (size % 7) + 1)
    out.push(bytes.subarray(at, at + size))
  return out
}

describe('SseParser', () => {
  it('reads data events, skipping comments and ignoring id/retry', () => {
    const events = parseAll([': keep-alive\n\nid: 1\nretry: 10\ndata: {"a":1}\n\ndata: [DONE]\n\n'])
    expect(events).toEqual([
      { event: undefined, data: '{"a":1}' },
      { event: undefined, data: '[DONE]' },
    ])
  })

  it('joins multi-line data, keeps event names, strips one leading space only', () => {
    const events = parseAll(['event: error\ndata:  two\ndata:three\n\ndata\n\n'])
    expect(events).toEqual([
      { event: 'error', data: ' two\nthree' },
      { event: undefined, data: '' },
    ])
  })

  it('gives the same events whatever the split, with LF, CRLF or CR line ends', () => {
    const bytes = fixture('openai-chat.sse')
    const whole = parseAll([bytes])
    expect(whole).toHaveLength(7)
    expect(JSON.parse(whole[3].data).choices[0].delta.content).toBe(' can I help — café?')
    const text = bytes.toString('utf8')
    for (const eol of ['\n', '\r\n', '\r']) {
      const variant = Buffer.from(text.replace(/\n/g, eol))
      expect(parseAll(pieces(variant))).toEqual(whole)
    }
  })

  it('holds back a CR at a chunk end in case its LF follows', () => {
    expect(parseAll(['data: a\r', '\n\r', '\ndata: b\r\n\r\n'])).toEqual([
      { event: undefined, data: 'a' },
      { event: undefined, data: 'b' },
    ])
  })

  it('delivers a last event that lacks its blank line, and drops a byte-order mark', () => {
    expect(parseAll(['\uFEFFdata: x\n\ndata: last'])).toEqual([
      { event: undefined, data: 'x' },
      { event: undefined, data: 'last' },
    ])
  })

  it('yields each event as soon as it is complete', async () => {
    let sent = 0
    async function* body() {
      sent++
      yield Buffer.from('data: 1\n\ndata: 2')
      sent++
      yield Buffer.from('\n\n')
    }
    const seen: [string, number][] = []
    for await (const message of parseSse(body())) seen.push([message.data, sent])
    expect(seen).toEqual([
      ['1', 1],
      ['2', 2],
    ])
  })
})
