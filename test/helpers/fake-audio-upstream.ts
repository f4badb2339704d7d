import http from 'node:http'
import type { AddressInfo } from 'node:net'
import busboy from 'busboy'

export type AudioUpstreamRequest = {
  path: string
  headers: http.IncomingHttpHeaders
  fields: Record<string, string[]>
  file?: { filename: string; contentType: string; bytes: Buffer }
}

export const UPSTREAM_TEXT = 'upstream heard these words'

/**
 * A fake OpenAI audio upstream: /audio/transcriptions and /audio/translations read the multipart
 * form and answer in the asked format (JSON, text, SRT, VTT, or transcript SSE events when
 * `stream` is true), recording what they received.
 */
export async function startFakeAudioUpstream() {
  const requests: AudioUpstreamRequest[] = []
  const server = http.createServer((req, res) => {
    const entry: AudioUpstreamRequest = { path: req.url ?? '', headers: req.headers, fields: {} }
    requests.push(entry)
    const parser = busboy({ headers: req.headers })
    parser.on('field', (name, value) => (entry.fields[name] ??= []).push(value))
    parser.on('file', (_name, stream, info) => {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => (entry.file = { filename: info.filename ?? '', contentType: info.mimeType, bytes: Buffer.concat(chunks) }))
    })
    parser.on('close', () => answer(entry, res))
    req.pipe(parser)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    last: () => requests[requests.length - 1],
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function answer(request: AudioUpstreamRequest, res: http.ServerResponse) {
  const format = request.fields.response_format?.[0] ?? 'json'
  if (request.fields.stream?.[0] === 'true') {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    const words = UPSTREAM_TEXT.split(' ')
    for (const [i, word] of words.entries()) res.write(`data: ${JSON.stringify({ type: 'transcript.text.delta', delta: (i ? ' ' : '') + word })}\n\n`)
    res.end(`data: ${JSON.stringify({ type: 'transcript.text.done', text: UPSTREAM_TEXT })}\n\n`)
    return
  }
  if (format === 'text' || format === 'srt' || format === 'vtt') {
    const body = format === 'text' ? `${UPSTREAM_TEXT}\n` : format === 'srt' ? `1\n00:00:00,000 --> 00:00:01,500\n${UPSTREAM_TEXT}\n\n` : `WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n${UPSTREAM_TEXT}\n\n`
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
    res.end(body)
    return
  }
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ text: UPSTREAM_TEXT, usage: { type: 'duration', seconds: 2 } }))
}
