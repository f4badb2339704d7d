import { createHash } from 'node:crypto'
import type { Sharp as SharpPipeline } from 'sharp'
import { loadSharp } from '../image-engine.js'
import type { ImageCall, ImageFormat, ImageResult } from '../image-backend.js'

/**
 * test-image: no text-to-image model can ship offline here (docs/images.md), so this model draws
 * a procedural picture instead, and says so. A generation is a gradient with shapes whose colours,
 * places and sizes come from sha256 of the prompt, the size and the image's index: the same
 * request gives the same bytes, another prompt another picture. An edit composites such a picture
 * through the mask (only where the mask is transparent); a variation shifts the hue of the input,
 * blurs it and lays seeded noise over it. Everything runs in sharp (libvips threads), never on the
 * event loop.
 */

/** sha256 in counter mode: as many bytes as asked, all from the seed. */
function seededBytes(seed: string, count: number): Buffer {
  const blocks: Buffer[] = []
  for (let i = 0; blocks.length * 32 < count; i++) blocks.push(createHash('sha256').update(`${i}\u0000${seed}`).digest())
  return Buffer.concat(blocks).subarray(0, count)
}

function hex(h: number, s: number, l: number): string {
  // HSL → RGB (CSS Color 4), written as hex so any SVG renderer reads it
  const a = s * Math.min(l, 1 - l)
  const f = (n: number) => {
    const k = (n + h / 30) % 12
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))))
  }
  return '#' + [f(0), f(8), f(4)].map((v) => v.toString(16).padStart(2, '0')).join('')
}

/** How many shapes each quality draws: more work for a "better" picture, as a real model spends. */
function shapeCount(quality: string | undefined): number {
  if (quality === 'low') return 4
  if (quality === 'high' || quality === 'hd') return 14
  return 8
}

/** The SVG of a generated picture: deterministic in (prompt, size, index, quality, style, background). */
export function pictureSvg(call: Pick<ImageCall, 'prompt' | 'width' | 'height' | 'quality' | 'style' | 'background'>, index: number): string {
  const { width: w, height: h } = call
  const shapes = shapeCount(call.quality)
  const bytes = seededBytes(`${call.prompt ?? ''}\u0000${w}x${h}\u0000${index}`, 8 + shapes * 8)
  const saturation = call.style === 'natural' ? 0.4 : 0.8
  const hue = (b: number) => (b / 255) * 360
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">`]
  if (call.background !== 'transparent') {
    const angle = (bytes[2] / 255) * Math.PI
    const [x2, y2] = [0.5 + Math.cos(angle) / 2, 0.5 + Math.sin(angle) / 2]
    parts.push(
      `<defs><linearGradient id="g" x1="${(1 - x2).toFixed(3)}" y1="${(1 - y2).toFixed(3)}" x2="${x2.toFixed(3)}" y2="${y2.toFixed(3)}">`,
      `<stop offset="0" stop-color="${hex(hue(bytes[0]), saturation, 0.35)}"/><stop offset="1" stop-color="${hex(hue(bytes[1]), saturation, 0.65)}"/>`,
      `</linearGradient></defs><rect width="${w}" height="${h}" fill="url(#g)"/>`,
    )
  }
  for (let i = 0; i < shapes; i++) {
    const b = bytes.subarray(8 + i * 8, 16 + i * 8)
    const color = hex(hue(b[0]), saturation, 0.3 + (b[1] / 255) * 0.5)
    const opacity = (0.45 + (b[2] / 255) * 0.5).toFixed(2)
    const [x, y] = [Math.round((b[3] / 255) * w), Math.round((b[4] / 255) * h)]
    const size = Math.round(((0.06 + (b[5] / 255) * 0.22) * (w + h)) / 2)
    const style = `fill="${color}" fill-opacity="${opacity}"`
    switch (b[6] % 3) {
      case 0:
        parts.push(`<circle cx="${x}" cy="${y}" r="${size}" ${style}/>`)
        break
      case 1: {
        const turn = (b[7] / 255) * 90
        parts.push(`<rect x="${x - size}" y="${y - size / 2}" width="${size * 2}" height="${size}" transform="rotate(${turn.toFixed(1)} ${x} ${y})" ${style}/>`)
        break
      }
      default: {
        const points = [0, 1, 2].map((k) => {
          const a = (b[7] / 255) * Math.PI * 2 + (k * Math.PI * 2) / 3
          return `${Math.round(x + Math.cos(a) * size)},${Math.round(y + Math.sin(a) * size)}`
        })
        parts.push(`<polygon points="${points.join(' ')}" ${style}/>`)
      }
    }
  }
  parts.push('</svg>')
  return parts.join('')
}

/** Encodes a sharp pipeline the way the request asked (output_format, output_compression). */
function encode(image: SharpPipeline, format: ImageFormat, compression: number | undefined): Promise<Buffer> {
  const quality = Math.max(1, compression ?? 100)
  if (format === 'jpeg') return image.flatten({ background: '#ffffff' }).jpeg({ quality }).toBuffer()
  if (format === 'webp') return image.webp({ quality }).toBuffer()
  return image.png().toBuffer()
}

async function generate(call: ImageCall): Promise<Buffer[]> {
  const sharp = await loadSharp()
  const out: Buffer[] = []
  for (let i = 0; i < call.n; i++) {
    if (call.signal.aborted) throw call.signal.reason
    out.push(await encode(sharp(Buffer.from(pictureSvg(call, i))), call.outputFormat, call.outputCompression))
  }
  return out
}

/** The input as RGBA pixels of the output size (stretched, as a model's input is resized). */
async function rgbaOf(bytes: Buffer, width: number, height: number): Promise<Buffer> {
  const sharp = await loadSharp()
  const image = sharp(bytes).ensureAlpha()
  const meta = await sharp(bytes).metadata()
  const sized = meta.width === width && meta.height === height ? image : image.resize(width, height, { fit: 'fill' })
  return sized.raw().toBuffer()
}

/**
 * Draws the prompt's picture where the mask (or, without one, the image itself) is transparent:
 * each pixel is the picture by (255 - alpha) / 255 and the image by the rest, so a pixel the mask
 * keeps opaque comes back exactly as it was.
 */
async function edit(call: ImageCall): Promise<Buffer[]> {
  const sharp = await loadSharp()
  const { width, height } = call
  const raw = { width, height, channels: 4 as const }
  const base = await rgbaOf(call.images![0].bytes, width, height)
  const maskRgba = call.mask ? await rgbaOf(call.mask.bytes, width, height) : base
  // the weight of the new picture: the mask's alpha, inverted; an opaque picture without a mask
  // is redrawn whole, as gpt-image-1 edits one (dall-e-2 refuses it before it gets here)
  const opaque = !call.mask && !(await sharp(call.images![0].bytes).metadata()).hasAlpha
  const weight = opaque
    ? Buffer.alloc(width * height, 255)
    : await sharp(maskRgba, { raw }).extractChannel(3).negate().raw().toBuffer()
  const out: Buffer[] = []
  for (let i = 0; i < call.n; i++) {
    if (call.signal.aborted) throw call.signal.reason
    // two pipelines: in one, sharp removes the alpha after joining the new one
    const rgb = await sharp(Buffer.from(pictureSvg(call, i))).removeAlpha().raw().toBuffer()
    const picture = await sharp(rgb, { raw: { width, height, channels: 3 } })
      .joinChannel(weight, { raw: { width, height, channels: 1 } })
      .png()
      .toBuffer()
    const composed = await sharp(base, { raw }).composite([{ input: picture }]).png().toBuffer()
    out.push(await encode(sharp(composed), call.outputFormat, call.outputCompression))
  }
  return out
}

/** Seeded noise: a small tile from sha256, scaled up to the picture. */
async function noiseTile(seed: string, width: number, height: number): Promise<Buffer> {
  const sharp = await loadSharp()
  const tile = 24
  return sharp(seededBytes(seed, tile * tile * 3), { raw: { width: tile, height: tile, channels: 3 } })
    .resize(width, height, { kernel: 'cubic' })
    .png()
    .toBuffer()
}

/** Variation i: the input's hue turned, blurred a little, with seeded noise laid over it. */
async function vary(call: ImageCall): Promise<Buffer[]> {
  const sharp = await loadSharp()
  const { width, height } = call
  const input = call.images![0].bytes
  const digest = createHash('sha256').update(input).digest('hex')
  const base = await sharp(await rgbaOf(input, width, height), { raw: { width, height, channels: 4 } }).png().toBuffer()
  const out: Buffer[] = []
  for (let i = 0; i < call.n; i++) {
    if (call.signal.aborted) throw call.signal.reason
    const seed = seededBytes(`${digest}\u0000${i}`, 4)
    const hue = 30 + Math.round((seed[0] / 255) * 300)
    const sigma = 0.6 + (seed[1] / 255) * 1.4
    const noise = await noiseTile(`${digest}\u0000noise\u0000${i}`, width, height)
    const varied = await sharp(base)
      .modulate({ hue, saturation: 0.8 + (seed[2] / 255) * 0.6 })
      .blur(sigma)
      .composite([{ input: noise, blend: 'soft-light' }])
      .png()
      .toBuffer()
    out.push(await encode(sharp(varied), call.outputFormat, call.outputCompression))
  }
  return out
}

/** Rough gpt-image-1 style token counts: OpenAI's output tokens per size and quality. */
function outputTokens(call: ImageCall): number {
  const square = call.width === call.height
  const table: Record<string, [number, number]> = { low: [272, 408], medium: [1056, 1584], high: [4160, 6240] }
  const [sq, wide] = table[call.quality === 'low' || call.quality === 'high' ? call.quality : 'medium']
  return (square ? sq : wide) * call.n
}

export async function testImages(call: ImageCall, promptTokens: number): Promise<ImageResult> {
  const bytes = call.operation === 'generation' ? await generate(call) : call.operation === 'edit' ? await edit(call) : await vary(call)
  // an input picture counts as a vision input does: 85 tokens and 170 per 512-pixel tile
  const imageTokens = (call.images ?? []).length * (85 + 170 * Math.ceil(call.width / 512) * Math.ceil(call.height / 512))
  const output = outputTokens(call)
  return {
    images: bytes.map((b) => ({ bytes: b, ...(call.operation !== 'variation' ? { revisedPrompt: call.prompt } : {}) })),
    usage: { inputTokens: promptTokens + imageTokens, outputTokens: output, textTokens: promptTokens, imageTokens },
  }
}
