import { ApiError, invalidRequest } from '../../errors.js'

/**
 * The Images API's errors. errors.md has none of them: the wording below is OpenAI's where it was
 * found quoted in public reports (cited), and otherwise OpenAI's current validator forms (C3, C11,
 * C13, C15) or, marked "Plinth's", a plain statement in the style of the nearest known one.
 */

/** "'a', 'b', and 'c'" as OpenAI lists supported values (C11). */
function list(values: readonly string[]): string {
  const quoted = values.map((v) => `'${v}'`)
  if (quoted.length <= 2) return quoted.join(' and ')
  return `${quoted.slice(0, -1).join(', ')}, and ${quoted[quoted.length - 1]}`
}

// C11
export function imageInvalidValue(param: string, value: string, supported: readonly string[]) {
  return invalidRequest(`Invalid value: '${value}'. Supported values are: ${list(supported)}.`, param, 'invalid_value')
}

// C3: a parameter the model does not take (gpt-image-1 is answered this way for response_format)
export function imageUnknownParameter(param: string) {
  return invalidRequest(`Unknown parameter: '${param}'.`, param, 'unknown_parameter')
}

// C15
export function promptTooLong(max: number, length: number) {
  return invalidRequest(
    `Invalid 'prompt': string too long. Expected a string with maximum length ${max}, but got a string with length ${length} instead.`,
    'prompt',
    'string_above_max_length',
  )
}

export function promptEmpty() {
  return invalidRequest(`Invalid 'prompt': empty string. Expected a string with minimum length 1, but got an empty string instead.`, 'prompt', 'empty_string')
}

// C13 (dall-e-3 makes one image a request)
export function tooManyImages(max: number, n: number) {
  return invalidRequest(`Invalid 'n': integer above maximum value. Expected a value <= ${max}, but got ${n} instead.`, 'n', 'integer_above_max_value')
}

// dall-e-3 asked for 256x256 (redevrx/chat_gpt_sdk#93, full body)
export function sizeNotSupported() {
  return invalidRequest('The size is not supported by this model.', null, 'invalid_size')
}

export function imageArrayTooLong(max: number, length: number) {
  return invalidRequest(
    `Invalid 'image': array too long. Expected an array with maximum length ${max}, but got an array with length ${length} instead.`,
    'image',
    'array_above_max_length',
  )
}

// Plinth's: gpt-image-1 documents that a transparent background needs png or webp
export function transparentJpeg() {
  return invalidRequest(
    `Invalid value: 'transparent'. A transparent background needs an output_format that has transparency: 'png' or 'webp', not 'jpeg'.`,
    'background',
    'invalid_value',
  )
}

// openai-node#1468 and Comfy-Org/ComfyUI#10552 (dall-e-2 edits and variations)
export function unsupportedMimetype(param: 'image' | 'mask', mimetype: string, supported: readonly string[]) {
  return invalidRequest(`Invalid file '${param}': unsupported mimetype ('${mimetype}'). Supported file formats are ${list(supported)}.`, param, null)
}

// redevrx/chat_gpt_sdk#53 (variations), the limit of dall-e-2's inputs
export function notPngUnder4Mb() {
  return invalidRequest('Uploaded image must be a PNG and less than 4 MB.', null, null)
}

// Plinth's, in the form of the one above: the spec says the image "must be square"
export function notSquare(width: number, height: number) {
  return invalidRequest(`Uploaded image must be square, but it is ${width}x${height}.`, 'image', null)
}

// sashabaranov/go-openai#188: a dall-e-2 edit without a mask needs an image with transparency
export function imageWithoutAlpha(param: 'image' | 'mask', mode: string, allowed: readonly string[]) {
  const what = param === 'mask' ? 'mask' : 'input'
  return invalidRequest(`Invalid ${what} image - format must be in [${allowed.map((m) => `'${m}'`).join(', ')}], got ${mode}.`, param, null)
}

// Plinth's, in the form of the one above: the spec says the mask has "the same dimensions as image"
export function maskSizeMismatch(mask: { width: number; height: number }, image: { width: number; height: number }) {
  return invalidRequest(
    `Invalid mask image - mask size (${mask.width}x${mask.height}) does not match image size (${image.width}x${image.height}). The mask must have the same dimensions as the image.`,
    'mask',
    null,
  )
}

// Plinth's, for dall-e-2's other limit on the mask (the spec: "less than 4MB", PNG)
export function maskNotPng() {
  return invalidRequest('Uploaded mask must be a PNG and less than 4 MB.', 'mask', null)
}

// LLMTornado#105, QuantumNous/new-api#1159 (gpt-image-1, full body)
export function invalidImageFile(index: number) {
  return new ApiError(
    400,
    `Invalid image file or mode for image ${index}, please check your image file.`,
    'image_generation_user_error',
    null,
    'invalid_image_file',
  )
}

// Plinth's: a model that has no image endpoint
export function notAnImageModel(model: string) {
  return invalidRequest(`The model \`${model}\` does not support image generation.`, 'model', 'invalid_value')
}

// The signed URLs of GET /v1/images/content (Plinth's; OpenAI's blob store answers 403 too)
export function imageUrlInvalid() {
  return new ApiError(403, 'The signature of this image URL is not valid.', 'invalid_request_error', 'sig', 'invalid_signature')
}

export function imageUrlExpired() {
  return new ApiError(403, 'This image URL has expired: image URLs are valid for 60 minutes after the image was generated.', 'invalid_request_error', 'expires', 'url_expired')
}

export function imageNotFound(id: string) {
  return new ApiError(404, `No image found with id '${id}'.`, 'invalid_request_error', null, null)
}
