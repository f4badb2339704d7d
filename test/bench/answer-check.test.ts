// The benchmarks' answer checks (bench/load.ts): npm run bench:peers counts a peer's errors with
// them, so a broken answer must fail them and a whole one pass.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { answerText, wholeAnswer } from '../../bench/load.js'

const TEXT = 'Hello from a "quoted" answer.'
const chunk = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`
const BODIES: Record<string, { status: number; type?: string; body: string }> = {
  '/json': { status: 200, type: 'application/json', body: JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: TEXT } }] }) },
  '/stream': { status: 200, type: 'text/event-stream', body: chunk('Hello from a ') + chunk('"quoted" answer.') + 'data: [DONE]\n\n' },
  // one peer sends its events with no content type at all
  '/untyped-stream': { status: 200, body: chunk(TEXT) + 'data: [DONE]\n\n' },
  '/cut-stream': { status: 200, type: 'text/event-stream', body: chunk('Hello from a ') },
  '/failure': { status: 500, type: 'application/json', body: '{"status":"failure","message":"Something went wrong"}' },
  '/not-json': { status: 200, type: 'application/json', body: 'upstream said no' },
}

let server: http.Server
let base: string
beforeAll(async () => {
  server = http.createServer((req, res) => {
    const answer = BODIES[req.url!]
    req.resume().on('end', () => res.writeHead(answer.status, answer.type ? { 'content-type': answer.type } : {}).end(answer.body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

describe('answerText', () => {
  it('reads the text of a whole JSON answer and of a whole stream, typed or not', async () => {
    for (const path of ['/json', '/stream', '/untyped-stream']) expect(await answerText(base + path, {}, '{}')).toBe(TEXT)
  })

  it('gives an error for a stream cut before [DONE], a failure status and a body that is not JSON', async () => {
    for (const [path, message] of [
      ['/cut-stream', /without \[DONE\]/],
      ['/failure', /status 500/],
      ['/not-json', /upstream said no/],
    ] as const) {
      const answer = await answerText(base + path, {}, '{}')
      expect(answer).toBeInstanceOf(Error)
      expect((answer as Error).message).toMatch(message)
    }
  })
})

describe('wholeAnswer', () => {
  it('passes whole bodies and fails broken ones', () => {
    expect(wholeAnswer(TEXT, false)(BODIES['/json'].body)).toBe(true)
    expect(wholeAnswer(TEXT, false)(BODIES['/failure'].body)).toBe(false)
    expect(wholeAnswer('another text', false)(BODIES['/json'].body)).toBe(false)
    expect(wholeAnswer(TEXT, true)(BODIES['/stream'].body)).toBe(true)
    expect(wholeAnswer(TEXT, true)(BODIES['/cut-stream'].body)).toBe(false)
    expect(wholeAnswer(TEXT, true)(BODIES['/failure'].body)).toBe(false)
  })
})
