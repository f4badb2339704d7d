import http from 'node:http'
import type { AddressInfo } from 'node:net'

/** The binary chunks the fake speaks: deterministic, every byte value, not valid audio. */
export const FAKE_AUDIO_CHUNKS = [0, 1, 2].map((n) => Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7 + n * 31) % 256)))

export type FakeSpeechUpstream = {
  baseURL: string
  /** The bodies of the speech requests received. */
  bodies: Record<string, unknown>[]
  /** Resolves once the client closed its connection before the answer ended. */
  aborted(): Promise<void>
  /** The next answer holds after its first chunk until `release()`. */
  hold(): void
  release(): void
  /** The next answer is this status and OpenAI error body. */
  fail(status: number, error: Record<string, unknown>): void
  close(): Promise<void>
}

/**
 * An upstream serving POST /v1/audio/speech: binary audio written in chunks (chunked transfer),
 * or, with `stream_format: sse`, speech events. Separate from fake-upstream.ts, which speaks chat.
 */
export async function startFakeSpeechUpstream(): Promise<FakeSpeechUpstream> {
  const bodies: Record<string, unknown>[] = []
  let holding = false
  let release = () => {}
  let failure: { status: number; error: Record<string, unknown> } | undefined
  let onAbort = () => {}
  let abortedPromise = new Promise<void>((resolve) => (onAbort = resolve))
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', async () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>
      bodies.push(body)
      res.on('close', () => {
        if (!res.writableFinished) onAbort()
      })
      if (failure) {
        const { status, error } = failure
        failure = undefined
        res.writeHead(status, { 'content-type': 'application/json' })
        return res.end(JSON.stringify({ error }))
      }
      const events = body.stream_format === 'sse'
      res.writeHead(200, { 'content-type': events ? 'text/event-stream' : 'audio/mpeg', 'transfer-encoding': 'chunked' })
      const hold = holding ? new Promise<void>((resolve) => (release = resolve)) : undefined
      holding = false
      for (const [i, chunk] of FAKE_AUDIO_CHUNKS.entries()) {
        if (res.destroyed) return
        res.write(events ? `data: ${JSON.stringify({ type: 'speech.audio.delta', audio: chunk.toString('base64') })}\n\n` : chunk)
        if (i === 0 && hold) await hold
      }
      if (events) res.write(`data: ${JSON.stringify({ type: 'speech.audio.done', usage: { input_tokens: 7, output_tokens: 70, total_tokens: 77 } })}\n\n`)
      res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    bodies,
    aborted: () => abortedPromise,
    hold: () => void (holding = true),
    release: () => release(),
    fail: (status, error) => void (failure = { status, error }),
    async close() {
      release()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      abortedPromise = Promise.resolve()
    },
  }
}
