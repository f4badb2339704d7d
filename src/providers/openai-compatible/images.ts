import type { ImageCall, ImageResult } from '../image-backend.js'
import { namesOfCall } from './errors.js'
import type { UpstreamTransport } from './transport.js'

type WireImages = {
  data?: { url?: string; b64_json?: string; revised_prompt?: string }[]
  usage?: { input_tokens?: number; output_tokens?: number; input_tokens_details?: { text_tokens?: number; image_tokens?: number } }
}

const PATHS = { generation: '/images/generations', edit: '/images/edits', variation: '/images/variations' } as const

/**
 * An image call forwarded whole: generations as JSON, edits and variations as the multipart form
 * the client sent (its pictures as files, `image[]` for several). The upstream's pictures come back
 * as it gave them, a URL of its own or base64, since the client's `response_format` went with them.
 */
export async function upstreamImages(transport: UpstreamTransport, call: ImageCall): Promise<ImageResult> {
  const fields: Record<string, unknown> = { ...call.raw, model: call.model }
  let body: string | Uint8Array
  let contentType: string | undefined
  if (call.operation === 'generation') {
    body = JSON.stringify(fields)
  } else {
    const form = new FormData()
    for (const [name, value] of Object.entries(fields)) if (value !== undefined && value !== null) form.append(name, String(value))
    const images = call.images ?? []
    const field = images.length > 1 ? 'image[]' : 'image'
    for (const image of images) form.append(field, new Blob([image.bytes as Uint8Array<ArrayBuffer>], { type: image.contentType }), image.filename || 'image.png')
    if (call.mask) form.append('mask', new Blob([call.mask.bytes as Uint8Array<ArrayBuffer>], { type: call.mask.contentType }), call.mask.filename || 'mask.png')
    // the form's bytes and boundary, as fetch would send them
    const encoded = new Response(form)
    body = new Uint8Array(await encoded.arrayBuffer())
    contentType = encoded.headers.get('content-type') ?? undefined
  }
  const exchange = await transport.post(PATHS[call.operation], body, call.signal, false, contentType ? { 'content-type': contentType } : undefined, namesOfCall(call))
  try {
    const answer = (await exchange.body.json()) as WireImages
    const usage = answer.usage
    return {
      images: (answer.data ?? []).map((d) => ({ url: d.url, b64Json: d.b64_json, revisedPrompt: d.revised_prompt })),
      ...(usage
        ? {
            usage: {
              inputTokens: usage.input_tokens ?? 0,
              outputTokens: usage.output_tokens ?? 0,
              textTokens: usage.input_tokens_details?.text_tokens ?? 0,
              imageTokens: usage.input_tokens_details?.image_tokens ?? 0,
            },
          }
        : {}),
    }
  } catch (error) {
    throw exchange.fail(error)
  } finally {
    exchange.dispose()
  }
}
