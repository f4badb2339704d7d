import http from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A fake OpenAI-compatible upstream serving POST /v1/moderations only: it flags an input holding
 * "FLAGME" for violence, answers in the shape of `shape` ('omni': every category and applied
 * input types; 'legacy': the text-moderation era, without illicit or applied types), and fails
 * with the status and body given to `fail`. It records each request body.
 */
export async function startFakeModerationUpstream() {
  const bodies: any[] = []
  let shape: 'omni' | 'legacy' = 'omni'
  let failure: { status: number; body: unknown } | undefined
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null')
      bodies.push(body)
      const send = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(value))
      }
      if (failure) return send(failure.status, failure.body)
      if (!req.url?.endsWith('/moderations')) return send(404, { error: { message: 'not here', type: 'invalid_request_error', param: null, code: null } })
      const inputs: unknown[] = typeof body.input === 'string' ? [body.input] : body.input
      const multimodal = inputs.some((i) => typeof i === 'object')
      const items = multimodal ? [JSON.stringify(inputs)] : (inputs as string[])
      send(200, { id: 'modr-upstream', model: `${body.model}-2024-09-26`, results: items.map((text) => result(text.includes('FLAGME'), shape, multimodal)) })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    bodies,
    shape: (s: 'omni' | 'legacy') => void (shape = s),
    fail: (f: { status: number; body: unknown } | undefined) => void (failure = f),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

const OMNI = ['harassment', 'harassment/threatening', 'hate', 'hate/threatening', 'illicit', 'illicit/violent', 'self-harm', 'self-harm/intent', 'self-harm/instructions', 'sexual', 'sexual/minors', 'violence', 'violence/graphic']
const LEGACY = OMNI.filter((c) => !c.startsWith('illicit'))

function result(flag: boolean, shape: 'omni' | 'legacy', image: boolean) {
  const names = shape === 'omni' ? OMNI : LEGACY
  const out: Record<string, unknown> = {
    flagged: flag,
    categories: Object.fromEntries(names.map((c) => [c, flag && c === 'violence'])),
    category_scores: Object.fromEntries(names.map((c) => [c, flag && c === 'violence' ? 0.97 : 0.001])),
  }
  if (shape === 'omni') out.category_applied_input_types = Object.fromEntries(names.map((c) => [c, image && c === 'violence' ? ['text', 'image'] : ['text']]))
  return out
}
