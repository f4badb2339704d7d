// writeSse (src/http/sse-node.ts), the socket writer behind every streamed token of a local model,
// on a real Node server and real sockets: bytes, HTTP chunking, turns, errors, disconnects and
// backpressure.
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { ApiError } from '../../src/errors.js'
import type { SseEvent, SseOptions } from '../../src/http/sse.js'
import { writeSse } from '../../src/http/sse-node.js'

const OPTIONS: SseOptions = {
  end: 'data-done',
  errorEvent: 'data',
  toApiError: (error) =>
    error instanceof ApiError ? error : new ApiError(500, String(error), 'server_error'),
}

const servers: http.Server[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

/** A server whose one route streams `events()` with writeSse; resolves with its port. */
async function serve(
  events: () => AsyncIterator<SseEvent>,
  options: SseOptions = OPTIONS,
  prime = true,
): Promise<number> {
  const server = http.createServer(async (_req, res) => {
    const iterator = events()
    const first = prime ? await iterator.next() : undefined
    await writeSse(res, iterator, options, { 'x-test': 'yes' }, first)
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

/** The raw bytes a client receives for one request (HTTP/1.1 unless told), to the body's end. */
function raw(port: number, version = '1.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () =>
      socket.write(
        `POST / HTTP/${version}\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      ),
    )
    let out = ''
    socket.setEncoding('latin1')
    socket.on('data', (d: string) => {
      out += d
      // the SSE headers keep the connection alive: a chunked body ends at its last chunk
      if (out.endsWith('\r\n0\r\n\r\n')) {
        socket.destroy()
        resolve(out)
      }
    })
    socket.on('end', () => resolve(out))
    socket.on('error', reject)
  })
}

/** The HTTP chunks of a chunked body, each as sent. */
function chunksOf(response: string): string[] {
  let body = response.slice(response.indexOf('\r\n\r\n') + 4)
  const chunks: string[] = []
  for (;;) {
    const line = body.indexOf('\r\n')
    const size = parseInt(body.slice(0, line), 16)
    if (!size) return chunks
    chunks.push(Buffer.from(body.slice(line + 2), 'latin1').subarray(0, size).toString('utf8'))
    body = Buffer.from(body.slice(line + 2), 'latin1').subarray(size + 2).toString('latin1')
  }
}

async function* fromList(items: unknown[], turns = true): AsyncGenerator<SseEvent> {
  for (const data of items) {
    if (turns) await new Promise((resolve) => setImmediate(resolve))
    yield { data }
  }
}

const frames = (items: unknown[]) => items.map((d) => `data: ${JSON.stringify(d)}\n\n`)

describe('writeSse on a Node socket', () => {
  const items = [{ text: 'Once' }, { text: ' upon' }, { text: ' a tïme ✨' }, { usage: 3 }]

  it('writes each frame as its own HTTP chunk when frames come in separate turns', async () => {
    const port = await serve(() => fromList(items))
    const response = await raw(port)
    expect(response).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
    expect(response).toMatch(/\r\ncontent-type: text\/event-stream; charset=utf-8\r\n/i)
    expect(response).toMatch(/\r\nx-test: yes\r\n/i)
    expect(response).toMatch(/\r\ntransfer-encoding: chunked\r\n/i)
    // the stream ends in the turn of its last frame: [DONE] shares that chunk
    const expected = frames(items)
    expected[expected.length - 1] += 'data: [DONE]\n\n'
    expect(chunksOf(response)).toEqual(expected)
  })

  it('sends the frames of one turn in one chunk, and without priming the first event', async () => {
    const port = await serve(() => fromList(items, false), OPTIONS, false)
    const chunks = chunksOf(await raw(port))
    expect(chunks.join('')).toBe([...frames(items), 'data: [DONE]\n\n'].join(''))
    expect(chunks.length).toBeLessThan(items.length + 1)
  })

  it('is read the same by a Node HTTP client on a kept-alive connection', async () => {
    const port = await serve(() => fromList(items))
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    const get = () =>
      new Promise<{ body: string; socket: unknown }>((resolve, reject) => {
        const req = http.request({ port, host: '127.0.0.1', method: 'POST', agent }, (res) => {
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (d: string) => (body += d))
          res.on('end', () => resolve({ body, socket: req.socket }))
        })
        req.on('error', reject)
        req.end()
      })
    const a = await get()
    const b = await get()
    agent.destroy()
    expect(a.body).toBe([...frames(items), 'data: [DONE]\n\n'].join(''))
    expect(b.body).toBe(a.body)
    expect(b.socket).toBe(a.socket)
  })

  it('answers an HTTP/1.0 client with the plain frames', async () => {
    const port = await serve(() => fromList(items))
    const response = await raw(port, '1.0')
    expect(response.slice(response.indexOf('\r\n\r\n') + 4)).toBe(
      Buffer.from([...frames(items), 'data: [DONE]\n\n'].join('')).toString('latin1'),
    )
  })

  it('ends with an error frame when the stream fails midway', async () => {
    async function* failing(): AsyncGenerator<SseEvent> {
      yield { data: { text: 'a' } }
      await new Promise((resolve) => setImmediate(resolve))
      throw new ApiError(500, 'the model fell over', 'server_error')
    }
    const port = await serve(() => failing())
    const body = chunksOf(await raw(port)).join('')
    expect(body).toMatch(/^data: \{"text":"a"\}\n\ndata: \{"error":\{"message":"the model fell over"/)
    expect(body).not.toContain('[DONE]')
  })

  it('stops pulling and closes the stream when the client goes away', async () => {
    let pulled = 0
    let returned = false
    async function* endless(): AsyncGenerator<SseEvent> {
      try {
        for (;;) {
          await new Promise((resolve) => setTimeout(resolve, 2))
          pulled++
          yield { data: { n: pulled } }
        }
      } finally {
        returned = true
      }
    }
    const port = await serve(() => endless())
    await new Promise<void>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () =>
        socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n'),
      )
      socket.once('data', () => {
        socket.destroy()
        resolve()
      })
    })
    for (let i = 0; i < 100 && !returned; i++) await new Promise((r) => setTimeout(r, 10))
    expect(returned).toBe(true)
    const at = pulled
    await new Promise((r) => setTimeout(r, 30))
    expect(pulled).toBe(at)
  })

  it('waits for a client that does not read (backpressure), then delivers everything', async () => {
    const big = 'x'.repeat(64 * 1024)
    let pulled = 0
    async function* many(): AsyncGenerator<SseEvent> {
      for (let i = 0; i < 400; i++) {
        pulled++
        yield { data: { i, big } }
      }
    }
    const port = await serve(() => many())
    const socket = net.connect(port, '127.0.0.1', () =>
      socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'),
    )
    socket.pause()
    await new Promise((r) => setTimeout(r, 300))
    // 400 frames of 64 KiB are 25 MiB; far fewer fit in the socket buffers
    expect(pulled).toBeLessThan(200)
    let bytes = 0
    socket.on('data', (d: Buffer) => (bytes += d.length))
    socket.resume()
    await new Promise<void>((resolve) =>
      socket.on('data', (d: Buffer) => {
        if (d.toString('latin1').endsWith('\r\n0\r\n\r\n')) resolve()
      }),
    )
    socket.destroy()
    expect(pulled).toBe(400)
    expect(bytes).toBeGreaterThan(400 * 64 * 1024)
  })
})
