import http from 'node:http'
import type { AddressInfo } from 'node:net'
import busboy from 'busboy'

export type ImageUpstreamRequest = {
  path: string
  contentType: string
  /** JSON body, or the form's text fields */
  fields: Record<string, unknown>
  /** the form's files: field name, filename, content type, bytes */
  files: { field: string; filename: string; type: string; bytes: Buffer }[]
}

export type FakeImageUpstream = { baseURL: string; requests: ImageUpstreamRequest[]; close(): Promise<void> }

export const UPSTREAM_PICTURE = Buffer.from('upstream picture bytes')

/**
 * A fake OpenAI images upstream: answers generations, edits and variations with a URL of its own
 * or base64 as asked, `usage` for gpt-image-1, and a 400 for the prompt "fail".
 */
export async function startFakeImageUpstream(): Promise<FakeImageUpstream> {
  const requests: ImageUpstreamRequest[] = []
  const server = http.createServer(async (req, res) => {
    const contentType = req.headers['content-type'] ?? ''
    const request: ImageUpstreamRequest = { path: req.url ?? '', contentType, fields: {}, files: [] }
    if (contentType.startsWith('multipart/form-data')) {
      await new Promise<void>((resolve, reject) => {
        const parser = busboy({ headers: req.headers })
        parser.on('field', (name, value) => (request.fields[name] = value))
        parser.on('file', (field, stream, info) => {
          const chunks: Buffer[] = []
          stream.on('data', (c: Buffer) => chunks.push(c))
          stream.on('end', () => request.files.push({ field, filename: info.filename ?? '', type: info.mimeType, bytes: Buffer.concat(chunks) }))
        })
        parser.on('close', resolve)
        parser.on('error', reject)
        req.pipe(parser)
      })
    } else {
      const chunks: Buffer[] = []
      for await (const c of req) chunks.push(c as Buffer)
      request.fields = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    }
    requests.push(request)
    res.setHeader('content-type', 'application/json')
    if (request.fields.prompt === 'fail') {
      res.statusCode = 400
      res.end(JSON.stringify({ error: { message: 'Your request was rejected by the upstream.', type: 'invalid_request_error', param: 'prompt', code: 'content_policy_violation' } }))
      return
    }
    const n = Number(request.fields.n ?? 1)
    const b64 = request.fields.response_format === 'b64_json' || request.fields.model === 'gpt-image-1'
    const data = Array.from({ length: n }, (_, i) =>
      b64 ? { b64_json: UPSTREAM_PICTURE.toString('base64') } : { url: `https://upstream.example/picture-${i}.png`, revised_prompt: 'upstream revised' },
    )
    const usage = request.fields.model === 'gpt-image-1' ? { usage: { total_tokens: 30, input_tokens: 10, output_tokens: 20, input_tokens_details: { text_tokens: 4, image_tokens: 6 } } } : {}
    res.end(JSON.stringify({ created: 1700000000, data, ...usage }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
