/** An output encoding of an image (OpenAI's `output_format`). */
export type ImageFormat = 'png' | 'jpeg' | 'webp'

/** An uploaded picture, as the client sent it. */
export type ImageInput = { bytes: Buffer; filename: string; contentType: string }

/** One call to an image model: a generation, an edit or a variation. */
export type ImageCall = {
  /** The backend's model id, already resolved by the registry. */
  model: string
  /** The model's id as the client named it, for upstream errors that would name the backend's. */
  publicModel?: string
  operation: 'generation' | 'edit' | 'variation'
  /** generations and edits */
  prompt?: string
  /** edits (1 to 16) and variations (1) */
  images?: ImageInput[]
  /** edits: where to draw (its fully transparent pixels), applied to the first image */
  mask?: ImageInput
  n: number
  /** The output size, resolved from `size` (auto and defaults included). */
  width: number
  height: number
  quality?: string
  style?: string
  background?: string
  outputFormat: ImageFormat
  /** 0-100, for jpeg and webp */
  outputCompression?: number
  /**
   * The client's validated parameters (wire names), for pass-through backends that honour every
   * parameter themselves and return what the client asked for (url or b64_json).
   */
  raw: Record<string, unknown>
  signal: AbortSignal
}

/** One picture of an answer: its bytes (the domain stores or encodes them), or the upstream's own. */
export type GeneratedImage = {
  bytes?: Buffer
  url?: string
  b64Json?: string
  revisedPrompt?: string
}

export type ImageTokens = { inputTokens: number; outputTokens: number; textTokens: number; imageTokens: number }

export type ImageResult = {
  images: GeneratedImage[]
  /** The token usage a gpt-image style model reports. */
  usage?: ImageTokens
}

/**
 * The methods a provider implements to serve POST /v1/images/generations, /edits and /variations.
 * Optional: a provider without them has no such models.
 */
export interface ImageBackend {
  images?(call: ImageCall): Promise<ImageResult>
}
