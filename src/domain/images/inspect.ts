import { loadSharp } from '../../providers/image-engine.js'
import type { ImageInput } from '../../providers/image-backend.js'
import {
  imageWithoutAlpha,
  invalidImageFile,
  maskNotPng,
  maskSizeMismatch,
  notPngUnder4Mb,
  notSquare,
  unsupportedMimetype,
} from './errors.js'
import type { Family, Operation } from './rules.js'

const FOUR_MB = 4 * 1024 * 1024
const GENERIC = new Set(['', 'application/octet-stream'])

type Shape = { width: number; height: number; format: string; hasAlpha: boolean; channels: number }

/** The header of a picture (sharp reads it off the event loop); undefined when it is not one. */
async function shapeOf(bytes: Buffer): Promise<Shape | undefined> {
  const sharp = await loadSharp()
  try {
    const meta = await sharp(bytes).metadata()
    if (!meta.width || !meta.height || !meta.format) return undefined
    return { width: meta.width, height: meta.height, format: meta.format, hasAlpha: !!meta.hasAlpha, channels: meta.channels ?? 3 }
  } catch {
    return undefined
  }
}

/** PIL's name for a picture's mode, as OpenAI's messages give it. */
function mode(shape: Shape): string {
  if (shape.hasAlpha) return shape.channels === 2 ? 'LA' : 'RGBA'
  return shape.channels === 1 ? 'L' : 'RGB'
}

/**
 * The checks OpenAI makes on uploaded pictures. dall-e-2 (edits and variations): one square PNG
 * under 4 MB, and for an edit without a mask, one with transparency. gpt-image-1 and the local
 * model: PNG, JPEG or WebP pictures it can read. The mask, for all: a PNG with an alpha channel,
 * of the first image's size.
 */
export async function inspectImages(operation: Operation, family: Family | undefined, images: ImageInput[], mask: ImageInput | undefined) {
  const dalle2 = family === 'dall-e-2'
  const shapes: Shape[] = []
  for (const [i, image] of images.entries()) {
    if (dalle2 && !GENERIC.has(image.contentType) && image.contentType !== 'image/png') {
      throw unsupportedMimetype('image', image.contentType, ['image/png'])
    }
    const shape = await shapeOf(image.bytes)
    if (dalle2) {
      if (!shape || shape.format !== 'png' || image.bytes.length >= FOUR_MB) throw notPngUnder4Mb()
      if (shape.width !== shape.height) throw notSquare(shape.width, shape.height)
      if (operation === 'edit' && !mask && !shape.hasAlpha && shape.channels !== 1) throw imageWithoutAlpha('image', mode(shape), ['RGBA', 'LA', 'L'])
    } else if (!shape || !['png', 'jpeg', 'webp'].includes(shape.format)) {
      throw invalidImageFile(i + 1)
    }
    shapes.push(shape!)
  }
  if (!mask) return
  if (!GENERIC.has(mask.contentType) && mask.contentType !== 'image/png') throw unsupportedMimetype('mask', mask.contentType, ['image/png'])
  const shape = await shapeOf(mask.bytes)
  if (!shape || shape.format !== 'png' || mask.bytes.length >= FOUR_MB) throw maskNotPng()
  if (!shape.hasAlpha) throw imageWithoutAlpha('mask', mode(shape), ['RGBA', 'LA'])
  const first = shapes[0]
  if (first && (first.width !== shape.width || first.height !== shape.height)) throw maskSizeMismatch(shape, first)
}
