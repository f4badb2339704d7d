import type { Context } from 'hono'
import type { AppContext } from '../context.js'
import { invalidRequest } from '../errors.js'
import { requestedModel, type Operation } from '../domain/images/rules.js'
import type { ImageRequest } from '../domain/images/service.js'
import { readJson, validate } from '../http/body.js'
import type { AppEnv } from '../http/env.js'
import { clientOrigin } from '../http/forwarded.js'
import { readMultipart, type FormFile } from '../http/multipart.js'
import { requestSignal } from '../http/node-request.js'
import type { RouteDef } from '../http/routes.js'
import { ImageContentQuery, ImageEditFields, ImageGenerateParams, ImageVariationFields } from '../schemas/images.js'
import { Pacer } from '../pacing.js'
import { rateLimited } from './rate-limited.js'
import { bodyLimit, projectPrincipal } from './shared.js'

// gpt-image-1 takes pictures under 25 MB; dall-e-2's 4 MB limit is checked with OpenAI's message
const IMAGE_BYTES = 25 * 1024 * 1024
// one more than the 16 allowed, so that a 17th is told as the array's limit, not as a form error
const MAX_IMAGES = 17
// gpt-image-1's edit options, newer than the spec (the SDK's ImageEditParams has them)
const EDIT_OUTPUT_FIELDS = ['background', 'output_format', 'output_compression', 'input_fidelity']

// Node 20 has ReadableStream.from; the DOM-less lib types here do not declare it yet
const webStream = (source: AsyncIterable<Uint8Array>) =>
  (ReadableStream as unknown as { from(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> }).from(source)

async function collect(data: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  for await (const chunk of data) chunks.push(chunk)
  return Buffer.concat(chunks)
}

type ImagesAnswer = Awaited<ReturnType<AppContext['services']['images']['create']>>

const SLICE_CHARS = 256 * 1024
const SLICE_BYTES = 3 * 16 * 1024

/**
 * The answer's JSON text as buffers, paced: ten base64 pictures are tens of MB, and one
 * JSON.stringify of them (or one copy) held the loop for tens of ms. Base64 needs no escaping, so
 * each picture's text goes out in slices of a quarter MB, with other requests run between them.
 */
export async function imagesBody(answer: ImagesAnswer): Promise<Buffer[]> {
  const pacer = new Pacer()
  // gpt-image-1's settings (background, output_format, quality, size) come before the pictures
  const { created, data: _data, usage: _usage, ...settings } = answer as ImagesAnswer & { usage?: unknown }
  const head = Object.keys(settings).length ? `,${JSON.stringify(settings).slice(1, -1)}` : ''
  const parts: Buffer[] = [Buffer.from(`{"created":${created}${head},"data":[`)]
  for (const [i, item] of answer.data.entries()) {
    let open = i ? ',{' : '{'
    if (item.b64_json !== undefined) {
      parts.push(Buffer.from(`${open}"b64_json":"`))
      open = ''
      const b64 = item.b64_json
      if (typeof b64 === 'string') {
        for (let at = 0; at < b64.length; at += SLICE_CHARS) {
          parts.push(Buffer.from(b64.slice(at, at + SLICE_CHARS), 'latin1'))
          await pacer.pace()
        }
      } else {
        // slices of a multiple of 3 bytes encode with no padding between them; 48 KB of bytes
        // make 64 KB strings, young and short-lived, never one string of the whole picture
        for (let at = 0; at < b64.bytes.length; at += SLICE_BYTES) {
          parts.push(Buffer.from(b64.bytes.subarray(at, at + SLICE_BYTES).toString('base64'), 'latin1'))
          await pacer.pace()
        }
      }
      parts.push(Buffer.from('"'))
    }
    const rest = JSON.stringify({ url: item.url, revised_prompt: item.revised_prompt }).slice(1, -1)
    parts.push(Buffer.from(`${open}${open || !rest ? '' : ','}${rest}}`))
  }
  parts.push(Buffer.from(`]${'usage' in answer && answer.usage ? `,"usage":${JSON.stringify(answer.usage)}` : ''}}`))
  return parts
}

async function jsonAnswer(c: Context<AppEnv>, answer: ImagesAnswer): Promise<Response> {
  const body = await imagesBody(answer)
  const length = body.reduce((n, b) => n + b.length, 0)
  return c.body(webStream((async function* () { yield* body })()), 200, { 'content-type': 'application/json', 'content-length': String(length) })
}

/** Plinth's public origin for `url` answers: configured, or the one the request came in on. */
function baseUrl(ctx: AppContext, c: Context<AppEnv>): string {
  return ctx.config.images.publicUrl ?? clientOrigin(c, ctx.config.server.trustProxy)
}

type ImageInput = NonNullable<ImageRequest['mask']>

function input(file: FormFile<Buffer>): ImageInput {
  return { bytes: file.value, filename: file.filename, contentType: file.contentType }
}

export function imagesRoutes(ctx: AppContext): RouteDef[] {
  const { images } = ctx.services

  /** An edit or variation: the form's pictures in memory (bounded), then the same path as generations. */
  const formRoute = (operation: Exclude<Operation, 'generation'>, path: string, operationId: string): RouteDef => ({
    method: 'POST',
    path,
    operationId,
    scope: 'project',
    handler: async (c) => {
      const edit = operation === 'edit'
      const form = await readMultipart(c.req.raw, {
        signal: requestSignal(c),
        files: edit
          ? { image: { limit: IMAGE_BYTES }, 'image[]': { limit: IMAGE_BYTES, repeat: MAX_IMAGES }, mask: { limit: IMAGE_BYTES } }
          : { image: { limit: IMAGE_BYTES } },
        fields: edit
          ? ['prompt', 'model', 'n', 'size', 'response_format', 'user', 'quality', ...EDIT_OUTPUT_FIELDS]
          : ['model', 'n', 'response_format', 'size', 'user'],
        receive: collect,
        release: async () => {},
      })
      const pictures = form.files.filter((f) => f.field === 'image' || f.field === 'image[]').map(input)
      const maskFile = form.files.find((f) => f.field === 'mask')
      const params = validate(edit ? ImageEditFields : ImageVariationFields, form.fields)
      if (!pictures.length) throw invalidRequest(`Missing required parameter: 'image'.`, 'image', 'missing_required_parameter')
      const model = requestedModel(operation, params, pictures.length)
      return rateLimited(c, ctx, model, { images: params.n ?? 1 }, async () =>
        jsonAnswer(
          c,
          await images.create(
            projectPrincipal(c),
            { operation, params, images: pictures, mask: maskFile && input(maskFile) },
            { signal: requestSignal(c), baseUrl: baseUrl(ctx, c) },
          ),
        ),
      )
    },
  })

  return [
    {
      // spec: createImage
      method: 'POST',
      path: '/images/generations',
      operationId: 'createImage',
      scope: 'project',
      handler: async (c) => {
        const params = await readJson(c, ImageGenerateParams, bodyLimit(ctx))
        const model = requestedModel('generation', params)
        return rateLimited(c, ctx, model, { images: params.n ?? 1 }, async () =>
          jsonAnswer(
            c,
            await images.create(projectPrincipal(c), { operation: 'generation', params }, { signal: requestSignal(c), baseUrl: baseUrl(ctx, c) }),
          ),
        )
      },
    },
    formRoute('edit', '/images/edits', 'createImageEdit'),
    formRoute('variation', '/images/variations', 'createImageVariation'),
    {
      // Plinth extension: the picture behind a signed `url` answer; the URL is the credential
      method: 'GET',
      path: '/images/content/{image_id}',
      operationId: 'getImageContent',
      scope: 'public',
      extension: true,
      handler: async (c) => {
        const query = validate(ImageContentQuery, c.req.query())
        const image = await images.content(c.req.param('image_id')!, query.expires, query.sig)
        const headers = {
          'content-type': image.contentType,
          'content-length': String(image.size),
          // private: the URL carries its own credential; it may be kept until it expires
          'cache-control': 'private, max-age=3600',
        }
        // HEAD (served by this GET route) sends no body: Hono drops it uncancelled, which left the
        // file open until garbage collection, so it is not opened at all
        if (c.req.method === 'HEAD') return c.body(null, 200, headers)
        return c.body(webStream(await image.open()), 200, headers)
      },
    },
  ]
}
