import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { UpstreamConfig } from '../../config/schema.js'
import { ProviderError } from '../../errors.js'
import { UpstreamTransport } from './transport.js'

// The exchange is undici's dispatch handler itself (no Readable per answer): these check what
// the Readable used to give for free. A reader that lags holds the socket, not megabytes; one that
// stops early frees its connection; bodies read whole come back byte for byte.

// larger than what loopback's socket buffers hold
const BIG = 64 * 1024 * 1024
let server: http.Server
let transport: UpstreamTransport
let sent = 0
/** Answers the server saw cut off before their end. */
let cut = 0

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      if (req.url === '/v1/big') {
        // written as fast as the socket takes it: how far it gets shows the reader's backpressure
        res.writeHead(200, { 'content-type': 'application/octet-stream' })
        sent = 0
        const piece = Buffer.alloc(64 * 1024, 0x61)
        const more = () => {
          while (sent < BIG) {
            sent += piece.length
            if (!res.write(piece)) return void res.once('drain', more)
          }
          res.end()
        }
        more()
        res.on('close', () => {
          if (!res.writableFinished) cut++
        })
      } else if (req.url === '/v1/bom') {
        res.writeHead(200, { 'Content-Type': 'application/json' })
        res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"é":"ü"}')]))
      } else {
        res.writeHead(418, { 'content-type': 'application/json' })
        res.end('{"error":{"message":"short and stout"}}')
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const upstream = { id: 'stub', baseURL: `http://127.0.0.1:${port}/v1`, timeoutMs: 10_000, connectTimeoutMs: 2000, headers: {} } as unknown as UpstreamConfig
  transport = new UpstreamTransport(upstream, undefined)
})

afterAll(async () => {
  await transport.close()
  server.closeAllConnections()
  server.close()
})

const signal = () => new AbortController().signal

/** Waits until the server has stopped sending (for 150 ms), at most 10 s. */
async function settled() {
  for (let last = -1, i = 0; sent !== last && i < 66; i++) {
    last = sent
    await new Promise((resolve) => setTimeout(resolve, 150))
  }
}

describe('UpstreamTransport', () => {
  it('reads a body whole as JSON, skipping a byte order mark, with its content type', async () => {
    const exchange = await transport.post('/bom', '{}', signal(), false)
    expect(exchange.contentType).toBe('application/json')
    expect(await exchange.body.json()).toEqual({ é: 'ü' })
    exchange.dispose()
  })

  it('stops reading the socket while an iterating reader lags, and delivers every byte', async () => {
    const exchange = await transport.post('/big', '{}', signal(), true)
    const iterator = exchange.body[Symbol.asyncIterator]()
    let received = (await iterator.next()).value!.length
    await settled()
    // the kernel's buffers take some; far from all of it went out while nobody read
    expect(sent).toBeLessThan(BIG / 2)
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) received += next.value.length
    expect(received).toBe(BIG)
    exchange.dispose()
  })

  it('ends the request of a reader that stops early, and serves the next one', async () => {
    const exchange = await transport.post('/big', '{}', signal(), true)
    for await (const chunk of exchange.body) {
      expect(chunk.length).toBeGreaterThan(0)
      break
    }
    const before = cut
    exchange.dispose()
    await settled()
    expect(sent).toBeLessThan(BIG / 2)
    // its connection was closed, not left paused in the pool
    await expect.poll(() => cut).toBe(before + 1)
    const next = await transport.post('/bom', '{}', signal(), false)
    expect(await next.body.json()).toEqual({ é: 'ü' })
    next.dispose()
  })

  it("maps a non-2xx answer to the upstream's error, its body read", async () => {
    const error = await transport.post('/teapot', '{}', signal(), false).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ProviderError)
    expect(String((error as ProviderError).message)).toContain('short and stout')
  })

  it('aborts when the client goes away, before the answer or during it', async () => {
    const before = new AbortController()
    before.abort()
    const early = await transport.post('/big', '{}', before.signal, true).catch((e: unknown) => e)
    expect(early).toBeInstanceOf(ProviderError)
    expect((early as ProviderError).message).toContain('client went away')
    const during = new AbortController()
    const exchange = await transport.post('/big', '{}', during.signal, true)
    const read = (async () => {
      for await (const chunk of exchange.body) void chunk
    })()
    during.abort()
    const error = await read.catch((e: unknown) => exchange.fail(e))
    expect(error).toBeInstanceOf(ProviderError)
    expect((error as ProviderError).message).toContain('client went away')
    exchange.dispose()
  })
})
