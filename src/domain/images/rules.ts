import type { ImageFormat } from '../../providers/image-backend.js'
import {
  imageArrayTooLong,
  imageInvalidValue,
  imageUnknownParameter,
  promptEmpty,
  promptTooLong,
  sizeNotSupported,
  tooManyImages,
  transparentJpeg,
} from './errors.js'

export type Operation = 'generation' | 'edit' | 'variation'

/** OpenAI's image models, whose rules a request naming them follows (whatever serves it here). */
export type Family = 'dall-e-2' | 'dall-e-3' | 'gpt-image-1'

/** A request to any of the three endpoints, in wire names; files already read. */
export type ImageParams = {
  model?: string | null
  prompt?: string
  n?: number | null
  size?: string | null
  quality?: string | null
  style?: string | null
  response_format?: string | null
  output_format?: string | null
  output_compression?: number | null
  background?: string | null
  moderation?: string | null
  /** gpt-image-1 edits: how closely to keep the input's features (no effect on test-image) */
  input_fidelity?: string | null
  user?: string
}

type Rules = {
  prompt: number
  n: number
  sizes: readonly string[]
  defaultSize: string
  qualities: readonly string[]
  /** parameters of the spec this model does not take */
  refused: readonly string[]
}

const GPT_ONLY = ['output_format', 'output_compression', 'background', 'moderation', 'input_fidelity'] as const

const RULES: Record<Family, Record<Operation, Rules | undefined>> = {
  'dall-e-2': {
    generation: { prompt: 1000, n: 10, sizes: ['256x256', '512x512', '1024x1024'], defaultSize: '1024x1024', qualities: ['standard', 'auto'], refused: [...GPT_ONLY, 'style'] },
    edit: { prompt: 1000, n: 10, sizes: ['256x256', '512x512', '1024x1024'], defaultSize: '1024x1024', qualities: ['standard', 'auto'], refused: GPT_ONLY },
    variation: { prompt: 0, n: 10, sizes: ['256x256', '512x512', '1024x1024'], defaultSize: '1024x1024', qualities: [], refused: [] },
  },
  'dall-e-3': {
    generation: { prompt: 4000, n: 1, sizes: ['1024x1024', '1792x1024', '1024x1792'], defaultSize: '1024x1024', qualities: ['standard', 'hd', 'auto'], refused: GPT_ONLY },
    edit: undefined,
    variation: undefined,
  },
  'gpt-image-1': {
    generation: { prompt: 32000, n: 10, sizes: ['auto', '1024x1024', '1536x1024', '1024x1536'], defaultSize: 'auto', qualities: ['low', 'medium', 'high', 'auto'], refused: ['response_format', 'style'] },
    edit: { prompt: 32000, n: 10, sizes: ['auto', '1024x1024', '1536x1024', '1024x1536'], defaultSize: 'auto', qualities: ['low', 'medium', 'high', 'auto'], refused: ['response_format'] },
    variation: undefined,
  },
}

/** Models the spec names for each endpoint (an unknown one of these is refused, as OpenAI does). */
const SERVED: Record<Operation, Family[]> = {
  generation: ['dall-e-2', 'dall-e-3', 'gpt-image-1'],
  edit: ['dall-e-2', 'gpt-image-1'],
  variation: ['dall-e-2'],
}

function isFamily(model: string): model is Family {
  return model === 'dall-e-2' || model === 'dall-e-3' || model === 'gpt-image-1'
}

/**
 * The model a request asks for. Unset, it is dall-e-2 "unless a parameter specific to gpt-image-1
 * is used" (the spec): a gpt-image-1 quality or size, its output options, or several images.
 */
export function requestedModel(operation: Operation, params: ImageParams, imageCount = 1): string {
  if (params.model) return params.model
  if (operation === 'variation') return 'dall-e-2'
  const gpt =
    GPT_ONLY.some((p) => params[p] !== undefined && params[p] !== null) ||
    ['low', 'medium', 'high'].includes(params.quality ?? '') ||
    ['auto', '1536x1024', '1024x1536'].includes(params.size ?? '') ||
    imageCount > 1
  return gpt ? 'gpt-image-1' : 'dall-e-2'
}

/** What the request resolves to once its model's rules are applied. */
export type ImagePlan = {
  model: string
  family: Family | undefined
  n: number
  width: number
  height: number
  /** the `size` recorded in usage: the resolved one, or what was asked of an upstream model */
  size: string
  responseFormat: 'url' | 'b64_json'
  outputFormat: ImageFormat
}

/**
 * Applies the rules of the model the request names (dall-e-2, dall-e-3, gpt-image-1) whatever
 * serves it: prompt length, n, sizes, qualities, and the parameters each does not take. Any other
 * model name (test-image itself, an upstream's own model) takes every value of the spec.
 */
export function planImages(operation: Operation, params: ImageParams, imageCount = 0): ImagePlan {
  const model = requestedModel(operation, params, imageCount)
  const family = isFamily(model) ? model : undefined
  if (family && !SERVED[operation].includes(family)) throw imageInvalidValue('model', model, SERVED[operation])
  const rules = family ? RULES[family][operation]! : undefined
  const set = (p: keyof ImageParams) => params[p] !== undefined && params[p] !== null
  if (rules) for (const p of rules.refused) if (set(p as keyof ImageParams)) throw imageUnknownParameter(p)
  if (operation !== 'variation') {
    const prompt = params.prompt ?? ''
    if (!prompt.length) throw promptEmpty()
    const max = rules?.prompt ?? 32000
    if (prompt.length > max) throw promptTooLong(max, prompt.length)
  }
  const n = params.n ?? 1
  if (rules && n > rules.n) throw tooManyImages(rules.n, n)
  if (operation === 'edit' && imageCount > (family === 'dall-e-2' ? 1 : 16)) throw imageArrayTooLong(family === 'dall-e-2' ? 1 : 16, imageCount)
  if (rules && params.quality && rules.qualities.length && !rules.qualities.includes(params.quality)) {
    throw imageInvalidValue('quality', params.quality, rules.qualities)
  }
  const asked = params.size ?? rules?.defaultSize ?? (family ? '1024x1024' : 'auto')
  if (rules && !rules.sizes.includes(asked)) throw sizeNotSupported()
  // auto is a square here: a procedural picture has no subject whose shape would choose
  const [width, height] = (asked === 'auto' ? '1024x1024' : asked).split('x').map(Number)
  const outputFormat = (params.output_format ?? 'png') as ImageFormat
  if (params.background === 'transparent' && outputFormat === 'jpeg') throw transparentJpeg()
  const responseFormat = family === 'gpt-image-1' ? 'b64_json' : ((params.response_format ?? 'url') as 'url' | 'b64_json')
  return { model, family, n, width, height, size: params.size ?? (family ? `${width}x${height}` : 'auto'), responseFormat, outputFormat }
}
