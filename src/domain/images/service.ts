import type { ImageInput, ImageTokens } from '../../providers/image-backend.js'
import type { ProviderRegistry } from '../../providers/registry.js'
import type { ProjectPrincipal } from '../../principal.js'
import { nowSeconds } from '../../storage/ids.js'
import { Pacer } from '../../pacing.js'
import type { UsageRecorder, UsageSink } from '../inference/usage.js'
import { notAnImageModel } from './errors.js'
import { inspectImages } from './inspect.js'
import { planImages, type ImageParams, type ImagePlan, type Operation } from './rules.js'
import type { ImageStore } from './store.js'

export type ImageRequest = {
  operation: Operation
  params: ImageParams
  /** edits and variations: the uploaded pictures (in order) and the mask */
  images?: ImageInput[]
  mask?: ImageInput
}

type Options = {
  signal: AbortSignal
  /** Where `url` answers point: Plinth's public origin. */
  baseUrl: string
  batch?: boolean
  usageSink?: UsageSink
}

/**
 * A picture's bytes, to be sent as base64 text: the API encodes them slice by slice as it writes
 * the answer. A whole picture's base64 string (4 MB and more) lands in V8's old space at once, and
 * ten of them made the collector run full mark-compacts, one pause of 50-140 ms on a busy machine.
 */
export class Base64Bytes {
  constructor(readonly bytes: Buffer) {}

  /** The base64 text, should anything serialise the answer whole (the API's writer does not). */
  toJSON(): string {
    return this.bytes.toString('base64')
  }
}

type WireImage = { b64_json?: string | Base64Bytes; url?: string; revised_prompt?: string }

const SOURCES: Record<Operation, string> = { generation: 'image.generation', edit: 'image.edit', variation: 'image.variation' }

/** POST /v1/images/generations, /edits and /variations, on any provider with `images`. */
export class ImagesService {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly usage: UsageRecorder,
    private readonly store: ImageStore,
  ) {}

  /** GET /v1/images/content/{id}: a signed URL's picture (ImageStore). */
  content(id: string, expires: string | undefined, sig: string | undefined) {
    return this.store.open(id, expires, sig)
  }

  /** Removes the pictures whose URLs have all expired (a leader job, every few minutes). */
  sweep() {
    return this.store.sweep()
  }

  async create(principal: ProjectPrincipal, request: ImageRequest, options: Options) {
    const images = request.images ?? []
    const plan = planImages(request.operation, request.params, images.length)
    const { card, provider, upstreamModel } = this.registry.resolve(plan.model, principal.models)
    if (!card.capabilities.images || !provider.images) throw notAnImageModel(plan.model)
    const passthrough = provider.id.startsWith('openai-compatible')
    // an upstream's own model decides what it takes; OpenAI's names and the local model are checked here
    if (plan.family || !passthrough) await inspectImages(request.operation, plan.family, images, request.mask)
    const raw: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(request.params)) if (value !== undefined && value !== null) raw[key] = value
    const result = await provider.images({
      model: upstreamModel,
      publicModel: plan.model,
      operation: request.operation,
      prompt: request.params.prompt,
      images,
      mask: request.mask,
      n: plan.n,
      width: plan.width,
      height: plan.height,
      quality: request.params.quality ?? undefined,
      style: request.params.style ?? undefined,
      background: request.params.background ?? undefined,
      outputFormat: plan.outputFormat,
      outputCompression: request.params.output_compression ?? undefined,
      raw,
      signal: options.signal,
    })
    const data: WireImage[] = []
    // saving ten large pictures is a few ms each: other requests run between them
    const pacer = new Pacer()
    for (const image of result.images) {
      await pacer.pace(options.signal)
      const item: WireImage = {}
      if (image.bytes) {
        if (plan.responseFormat === 'b64_json') item.b64_json = new Base64Bytes(image.bytes)
        else item.url = this.store.url(options.baseUrl, await this.store.save(image.bytes, plan.outputFormat))
      } else {
        if (image.b64Json !== undefined) item.b64_json = image.b64Json
        if (image.url !== undefined) item.url = image.url
      }
      // dall-e-3 tells the prompt it drew (test-image draws the prompt as given); an upstream says its own
      const revised = image.bytes ? (plan.family === 'dall-e-3' ? image.revisedPrompt : undefined) : image.revisedPrompt
      if (revised !== undefined) item.revised_prompt = revised
      data.push(item)
    }
    // the usage object is gpt-image-1's (the spec); an upstream's is passed on as it reported it
    const tokens: ImageTokens | undefined = passthrough ? result.usage : plan.family === 'gpt-image-1' ? result.usage : undefined
    void this.usage.record(
      principal,
      {
        operation: 'images',
        model: plan.model,
        inputTokens: tokens?.inputTokens ?? 0,
        outputTokens: tokens?.outputTokens ?? 0,
        images: data.length,
        source: SOURCES[request.operation],
        size: `${plan.width}x${plan.height}`,
        batch: options.batch,
      },
      options.usageSink,
    )
    return {
      created: nowSeconds(),
      // gpt-image-1's answer says what it drew (newer than the spec, in the SDK's ImagesResponse)
      ...(plan.family === 'gpt-image-1' && !passthrough ? drawn(request.params, plan) : {}),
      data,
      ...(tokens
        ? {
            usage: {
              total_tokens: tokens.inputTokens + tokens.outputTokens,
              input_tokens: tokens.inputTokens,
              output_tokens: tokens.outputTokens,
              input_tokens_details: { text_tokens: tokens.textTokens, image_tokens: tokens.imageTokens },
            },
          }
        : {}),
    }
  }
}

/** The settings a gpt-image-1 answer reports, `auto` resolved as test-image drew it. */
function drawn(params: ImageParams, plan: ImagePlan) {
  const quality = params.quality
  return {
    background: params.background === 'transparent' ? ('transparent' as const) : ('opaque' as const),
    output_format: plan.outputFormat,
    // auto draws (and is billed) as medium
    quality: quality === 'low' || quality === 'high' ? quality : ('medium' as const),
    size: `${plan.width}x${plan.height}`,
  }
}
