import sharp from 'sharp'
import { toFile } from 'openai'

/** A square PNG of one colour (opaque unless `alpha` is given). */
export async function solidPng(size: number, rgb: [number, number, number], alpha?: number): Promise<Buffer> {
  const channels = alpha === undefined ? 3 : 4
  const background = alpha === undefined ? { r: rgb[0], g: rgb[1], b: rgb[2] } : { r: rgb[0], g: rgb[1], b: rgb[2], alpha: alpha / 255 }
  return sharp({ create: { width: size, height: size, channels, background } }).png().toBuffer()
}

/** A mask whose left half is fully transparent (edit here) and right half opaque (keep). */
export async function leftHalfMask(width: number, height = width): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 4)
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) pixels[(y * width + x) * 4 + 3] = x < width / 2 ? 0 : 255
  return sharp(pixels, { raw: { width, height, channels: 4 } }).png().toBuffer()
}

export function pngFile(bytes: Buffer, name = 'image.png', type = 'image/png') {
  return toFile(bytes, name, { type })
}

/** RGBA pixels of a picture. */
export async function pixels(bytes: Buffer) {
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true })
  return { data, width: info.width, height: info.height }
}

/** Mean absolute difference per channel between two same-size pictures, over the pixels `where` picks. */
export async function meanDifference(a: Buffer, b: Buffer, where: (x: number, y: number) => boolean = () => true): Promise<number> {
  const pa = await pixels(a)
  const pb = await pixels(b)
  let sum = 0
  let count = 0
  for (let y = 0; y < pa.height; y++)
    for (let x = 0; x < pa.width; x++) {
      if (!where(x, y)) continue
      for (let c = 0; c < 3; c++) sum += Math.abs(pa.data[(y * pa.width + x) * 4 + c] - pb.data[(y * pb.width + x) * 4 + c])
      count += 3
    }
  return sum / count
}
