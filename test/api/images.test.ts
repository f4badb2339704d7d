import fs from 'node:fs'
import OpenAI from 'openai'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { imageUrlSecret, ImageStore } from '../../src/domain/images/store.js'
import { leftHalfMask, meanDifference, pixels, pngFile, solidPng } from '../helpers/images.js'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

let t: TestApp
let client: OpenAI
beforeAll(async () => {
  t = await createTestApp()
  client = t.client()
})
afterAll(async () => t.close())

const b64 = (image: OpenAI.Image) => Buffer.from(image.b64_json!, 'base64')

/** An image URL is fetched as a browser would: no API key. */
async function download(url: string) {
  const response = await fetch(url)
  return { status: response.status, type: response.headers.get('content-type'), bytes: Buffer.from(await response.arrayBuffer()) }
}

async function form(path: string, fields: Record<string, string>, files: [string, Buffer, string, string?][]) {
  const body = new FormData()
  for (const [k, v] of Object.entries(fields)) body.append(k, v)
  for (const [field, bytes, type, name] of files) body.append(field, new Blob([bytes as Uint8Array<ArrayBuffer>], { type }), name ?? 'image.png')
  const response = await t.fetch(`http://plinth.test/v1${path}`, { method: 'POST', headers: { authorization: `Bearer ${PROJECT_KEY}` }, body })
  return { status: response.status, body: (await response.json()) as any }
}

async function post(path: string, body: unknown) {
  const response = await t.fetch(`http://plinth.test/v1${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${PROJECT_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as any }
}

describe('images.generate', () => {
  it('answers dall-e-2 (the default) with a signed URL that serves the PNG without a key', async () => {
    const result = await client.images.generate({ prompt: 'a lighthouse at dusk', size: '256x256' })
    expect(result.data).toHaveLength(1)
    expect(result.usage).toBeUndefined()
    const url = result.data![0].url!
    expect(url).toMatch(new RegExp(`^${t.url}/v1/images/content/img_[0-9a-f]{32}\\.png\\?expires=\\d+&sig=`))
    const expires = Number(new URL(url).searchParams.get('expires'))
    expect(expires - result.created).toBeGreaterThanOrEqual(3599)
    expect(expires - result.created).toBeLessThanOrEqual(3601)
    const got = await download(url)
    expect(got.status).toBe(200)
    expect(got.type).toBe('image/png')
    const meta = await sharp(got.bytes).metadata()
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 256, 256])
  })

  it('is deterministic: the same prompt draws the same picture, another prompt another one', async () => {
    const ask = (prompt: string) => client.images.generate({ prompt, size: '256x256', response_format: 'b64_json', n: 2 })
    const [a, again, other] = await Promise.all([ask('a red fox'), ask('a red fox'), ask('a blue whale')])
    expect(b64(a.data![0]).equals(b64(again.data![0]))).toBe(true)
    // the images of one request differ from each other, and from another prompt's
    expect(await meanDifference(b64(a.data![0]), b64(a.data![1]))).toBeGreaterThan(10)
    expect(await meanDifference(b64(a.data![0]), b64(other.data![0]))).toBeGreaterThan(10)
    // the url form serves the very same bytes
    const viaUrl = await client.images.generate({ prompt: 'a red fox', size: '256x256' })
    expect((await download(viaUrl.data![0].url!)).bytes.equals(b64(a.data![0]))).toBe(true)
  })

  it('dall-e-3: a revised prompt, 1024x1792, n=1 only and its sizes only', async () => {
    const result = await client.images.generate({ model: 'dall-e-3', prompt: 'a castle', size: '1024x1792', response_format: 'b64_json', style: 'natural', quality: 'hd' })
    expect(result.data![0].revised_prompt).toBe('a castle')
    const meta = await sharp(b64(result.data![0])).metadata()
    expect([meta.width, meta.height]).toEqual([1024, 1792])
    expect(await post('/images/generations', { model: 'dall-e-3', prompt: 'x', n: 2 })).toEqual({
      status: 400,
      body: { error: { message: "Invalid 'n': integer above maximum value. Expected a value <= 1, but got 2 instead.", type: 'invalid_request_error', param: 'n', code: 'integer_above_max_value' } },
    })
    expect(await post('/images/generations', { model: 'dall-e-3', prompt: 'x', size: '256x256' })).toEqual({
      status: 400,
      body: { error: { message: 'The size is not supported by this model.', type: 'invalid_request_error', param: null, code: 'invalid_size' } },
    })
    expect((await post('/images/generations', { model: 'dall-e-3', prompt: 'x', quality: 'high' })).body.error).toMatchObject({
      message: "Invalid value: 'high'. Supported values are: 'standard', 'hd', and 'auto'.",
      param: 'quality',
    })
  })

  it('gpt-image-1: base64 always, usage, output formats and compression, transparent backgrounds', async () => {
    const png = await client.images.generate({ model: 'gpt-image-1', prompt: 'a glass of water', size: '1536x1024', quality: 'low', background: 'transparent' })
    expect(png.data![0].url).toBeUndefined()
    expect(png.usage).toMatchObject({ output_tokens: 408, input_tokens_details: { image_tokens: 0 } })
    expect(png.usage!.input_tokens).toBe(png.usage!.input_tokens_details.text_tokens)
    expect(png.usage!.input_tokens).toBeGreaterThan(0)
    const picture = await pixels(b64(png.data![0]))
    expect([picture.width, picture.height]).toEqual([1536, 1024])
    // no background drawn: some pixels are fully transparent
    let transparent = 0
    for (let i = 3; i < picture.data.length; i += 4) if (picture.data[i] === 0) transparent++
    expect(transparent).toBeGreaterThan(0)

    const best = await client.images.generate({ model: 'gpt-image-1', prompt: 'a field', output_format: 'jpeg', output_compression: 100, size: '1024x1024' })
    const worst = await client.images.generate({ model: 'gpt-image-1', prompt: 'a field', output_format: 'jpeg', output_compression: 5, size: '1024x1024' })
    expect((await sharp(b64(best.data![0])).metadata()).format).toBe('jpeg')
    expect(b64(worst.data![0]).length).toBeLessThan(b64(best.data![0]).length / 2)
    const webp = await client.images.generate({ prompt: 'a field', output_format: 'webp' })
    // an unnamed model with a gpt-image-1 parameter is gpt-image-1 (the spec)
    expect(webp.usage).toBeDefined()
    expect((await sharp(b64(webp.data![0])).metadata()).format).toBe('webp')
  })

  it("refuses what a model does not take, with OpenAI's errors", async () => {
    const error = async (body: unknown) => (await post('/images/generations', body)).body.error
    expect(await error({ model: 'gpt-image-1', prompt: 'x', response_format: 'url' })).toMatchObject({ message: "Unknown parameter: 'response_format'.", param: 'response_format', code: 'unknown_parameter' })
    expect(await error({ model: 'dall-e-2', prompt: 'x', output_format: 'webp' })).toMatchObject({ param: 'output_format', code: 'unknown_parameter' })
    expect(await error({ model: 'dall-e-2', prompt: 'x'.repeat(1001) })).toEqual({
      message: "Invalid 'prompt': string too long. Expected a string with maximum length 1000, but got a string with length 1001 instead.",
      type: 'invalid_request_error',
      param: 'prompt',
      code: 'string_above_max_length',
    })
    expect(await error({ model: 'dall-e-3', prompt: 'x'.repeat(4001) })).toMatchObject({ code: 'string_above_max_length' })
    expect((await post('/images/generations', { model: 'gpt-image-1', prompt: 'x'.repeat(4001), quality: 'low', size: '1024x1024' })).status).toBe(200)
    expect(await error({ prompt: 'x', size: '999x999' })).toMatchObject({ param: 'size', code: 'invalid_value' })
    expect(await error({ prompt: 'x', size: '1792x1024' })).toMatchObject({ code: 'invalid_size' })
    expect(await error({ prompt: 'x', n: 11 })).toMatchObject({ param: 'n', code: 'integer_above_max_value' })
    expect(await error({ prompt: '' })).toMatchObject({ param: 'prompt', code: 'empty_string' })
    expect(await error({ model: 'gpt-image-1', prompt: 'x', background: 'transparent', output_format: 'jpeg' })).toMatchObject({ param: 'background' })
    expect(await error({ prompt: 'x', colour: 'red' })).toMatchObject({ param: 'colour', code: 'unknown_parameter' })
    expect(await error({ model: 'test-echo', prompt: 'x' })).toMatchObject({ param: 'model' })
    expect((await post('/images/generations', { model: 'no-such-model', prompt: 'x' })).status).toBe(404)
  })
})

describe('images.edit', () => {
  it('draws only where the mask is transparent: the kept half comes back unchanged', async () => {
    const image = await solidPng(256, [200, 30, 30])
    const mask = await leftHalfMask(256)
    for (const response_format of ['b64_json', 'url'] as const) {
      const result = await client.images.edit({ image: await pngFile(image), mask: await pngFile(mask, 'mask.png'), prompt: 'a green meadow', size: '256x256', response_format })
      const bytes = response_format === 'url' ? (await download(result.data![0].url!)).bytes : b64(result.data![0])
      expect(await meanDifference(bytes, image, (x) => x >= 128)).toBe(0)
      expect(await meanDifference(bytes, image, (x) => x < 128)).toBeGreaterThan(20)
    }
  })

  it("uses the image's own transparency without a mask, and refuses an opaque one for dall-e-2", async () => {
    const half = await leftHalfMask(256) // transparent left half, black right half
    const result = await client.images.edit({ image: await pngFile(half), prompt: 'stars', size: '256x256', response_format: 'b64_json' })
    expect(await meanDifference(b64(result.data![0]), half, (x) => x >= 128)).toBe(0)
    const opaque = await form('/images/edits', { prompt: 'stars' }, [['image', await solidPng(64, [1, 2, 3]), 'image/png']])
    expect(opaque).toEqual({
      status: 400,
      body: { error: { message: "Invalid input image - format must be in ['RGBA', 'LA', 'L'], got RGB.", type: 'invalid_request_error', param: 'image', code: null } },
    })
  })

  it('takes several images (image[]) for gpt-image-1, with usage for their tokens', async () => {
    const images = [await pngFile(await solidPng(64, [0, 0, 255])), await pngFile(await solidPng(64, [0, 255, 0]))]
    const result = await client.images.edit({ model: 'gpt-image-1', image: images, prompt: 'blend them', quality: 'low', size: '1024x1024' })
    expect(result.data).toHaveLength(1)
    // without a mask, an opaque picture is redrawn whole
    const first = await sharp(await solidPng(64, [0, 0, 255])).resize(1024, 1024).png().toBuffer()
    expect(await meanDifference(b64(result.data![0]), first)).toBeGreaterThan(20)
    expect(result.usage!.input_tokens_details.image_tokens).toBe(2 * (85 + 170 * 4))
    // dall-e-2 takes one image only
    const two = await form('/images/edits', { prompt: 'x', model: 'dall-e-2' }, [
      ['image[]', await solidPng(64, [0, 0, 0], 0), 'image/png'],
      ['image[]', await solidPng(64, [0, 0, 0], 0), 'image/png'],
    ])
    expect(two.body.error).toMatchObject({ param: 'image', code: 'array_above_max_length' })
  })

  it("gpt-image-1 edits take the SDK's output options (output_format, output_compression, background, input_fidelity); dall-e-2 does not", async () => {
    const image = await pngFile(await solidPng(64, [0, 0, 255]))
    const jpeg = await client.images.edit({
      model: 'gpt-image-1',
      image,
      prompt: 'a hat',
      quality: 'low',
      size: '1024x1024',
      output_format: 'jpeg',
      output_compression: 40,
      background: 'opaque',
      input_fidelity: 'high',
    })
    expect((await sharp(b64(jpeg.data![0])).metadata()).format).toBe('jpeg')
    expect(jpeg).toMatchObject({ background: 'opaque', output_format: 'jpeg', quality: 'low', size: '1024x1024' })
    const webp = await client.images.edit({ image: await pngFile(await solidPng(64, [0, 255, 0])), prompt: 'a hat', output_format: 'webp' })
    // an unnamed model with a gpt-image-1 parameter is gpt-image-1
    expect(webp.usage).toBeDefined()
    expect((await sharp(b64(webp.data![0])).metadata()).format).toBe('webp')
    for (const [field, value] of [['output_format', 'webp'], ['background', 'opaque'], ['input_fidelity', 'low'], ['output_compression', '50']]) {
      const refused = await form('/images/edits', { prompt: 'x', model: 'dall-e-2', [field]: value }, [['image', await solidPng(64, [0, 0, 0], 0), 'image/png']])
      expect(refused.body.error).toMatchObject({ message: `Unknown parameter: '${field}'.`, param: field, code: 'unknown_parameter' })
    }
  })

  it('gpt-image-1 answers say what they drew (background, output_format, quality, size); dall-e answers do not', async () => {
    const auto = await client.images.generate({ model: 'gpt-image-1', prompt: 'a kite', quality: 'low' })
    expect(auto).toMatchObject({ background: 'opaque', output_format: 'png', quality: 'low', size: '1024x1024' })
    const clear = await client.images.generate({ model: 'gpt-image-1', prompt: 'a kite', quality: 'auto', size: '1536x1024', background: 'transparent', output_format: 'webp' })
    expect(clear).toMatchObject({ background: 'transparent', output_format: 'webp', quality: 'medium', size: '1536x1024' })
    const dalle = await client.images.generate({ model: 'dall-e-2', prompt: 'a kite', size: '256x256', response_format: 'b64_json' })
    expect(Object.keys(dalle).sort()).toEqual(['created', 'data'])
  })

  it('refuses a mask that does not match, is not a PNG, or has no alpha; images of the wrong format or shape', async () => {
    const image = await solidPng(128, [9, 9, 9], 0)
    const edit = (files: [string, Buffer, string, string?][], fields: Record<string, string> = {}) => form('/images/edits', { prompt: 'x', ...fields }, files)
    expect(await edit([['image', image, 'image/png'], ['mask', await leftHalfMask(64), 'image/png', 'mask.png']])).toEqual({
      status: 400,
      body: { error: { message: 'Invalid mask image - mask size (64x64) does not match image size (128x128). The mask must have the same dimensions as the image.', type: 'invalid_request_error', param: 'mask', code: null } },
    })
    const jpeg = await sharp(image).flatten().jpeg().toBuffer()
    expect((await edit([['image', image, 'image/png'], ['mask', jpeg, 'image/jpeg', 'mask.jpg']])).body.error).toMatchObject({
      message: "Invalid file 'mask': unsupported mimetype ('image/jpeg'). Supported file formats are 'image/png'.",
      param: 'mask',
    })
    expect((await edit([['image', image, 'image/png'], ['mask', await solidPng(128, [0, 0, 0]), 'image/png']])).body.error).toMatchObject({
      message: "Invalid mask image - format must be in ['RGBA', 'LA'], got RGB.",
    })
    expect((await edit([['image', jpeg, 'image/jpeg', 'a.jpg']])).body.error.message).toBe("Invalid file 'image': unsupported mimetype ('image/jpeg'). Supported file formats are 'image/png'.")
    expect((await edit([['image', jpeg, 'application/octet-stream']])).body.error.message).toBe('Uploaded image must be a PNG and less than 4 MB.')
    expect((await edit([['image', Buffer.from('not a picture'), 'image/png']])).body.error.message).toBe('Uploaded image must be a PNG and less than 4 MB.')
    const wide = await sharp({ create: { width: 64, height: 32, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer()
    expect((await edit([['image', wide, 'image/png']])).body.error.message).toBe('Uploaded image must be square, but it is 64x32.')
    // gpt-image-1 reads JPEG, but not garbage
    expect((await edit([['image', jpeg, 'image/jpeg', 'a.jpg']], { model: 'gpt-image-1', quality: 'low' })).status).toBe(200)
    expect(await edit([['image', Buffer.from('junk'), 'image/png']], { model: 'gpt-image-1' })).toEqual({
      status: 400,
      body: { error: { message: 'Invalid image file or mode for image 1, please check your image file.', type: 'image_generation_user_error', param: null, code: 'invalid_image_file' } },
    })
    expect((await edit([['image', image, 'image/png']], { model: 'dall-e-3' })).body.error).toMatchObject({ param: 'model', code: 'invalid_value' })
    expect((await form('/images/edits', { prompt: 'x' }, [])).body.error).toMatchObject({ param: 'image', code: 'missing_required_parameter' })
    // a field edits do not have (background is gpt-image-1's, see above)
    expect((await edit([['image', image, 'image/png']], { style: 'vivid' })).body.error).toMatchObject({ param: 'style', code: 'unknown_parameter' })
  })
})

describe('images.createVariation', () => {
  it('perturbs the input: each variation differs from it and from the others, at the size asked', async () => {
    const input = await sharp(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256"><rect width="256" height="256" fill="#3060c0"/><circle cx="128" cy="128" r="80" fill="#f0d020"/></svg>')).png().toBuffer()
    const result = await client.images.createVariation({ image: await pngFile(input), n: 2, size: '256x256', response_format: 'b64_json' })
    const [a, b] = result.data!.map(b64)
    expect((await sharp(a).metadata()).width).toBe(256)
    expect(await meanDifference(a, input)).toBeGreaterThan(5)
    expect(await meanDifference(a, b)).toBeGreaterThan(2)
    const again = await client.images.createVariation({ image: await pngFile(input), n: 1, size: '256x256', response_format: 'b64_json' })
    expect(b64(again.data![0]).equals(a)).toBe(true)
    const byUrl = await client.images.createVariation({ image: await pngFile(input), size: '512x512' })
    const got = await download(byUrl.data![0].url!)
    expect((await sharp(got.bytes).metadata()).width).toBe(512)
    expect((await form('/images/variations', { model: 'gpt-image-1' }, [['image', input, 'image/png']])).body.error).toMatchObject({
      message: "Invalid value: 'gpt-image-1'. Supported values are: 'dall-e-2'.",
    })
    expect((await form('/images/variations', { size: '1536x1024' }, [['image', input, 'image/png']])).body.error).toMatchObject({ param: 'size', code: 'invalid_value' })
  })
})

describe('signed image URLs', () => {
  it('refuses a bad signature or a changed expiry (403), a missing image (404), and expired URLs', async () => {
    const result = await client.images.generate({ prompt: 'a key', size: '256x256' })
    const url = new URL(result.data![0].url!)
    const tampered = new URL(url)
    tampered.searchParams.set('sig', url.searchParams.get('sig')!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')))
    expect((await download(tampered.href)).status).toBe(403)
    const later = new URL(url)
    later.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 3600))
    const refused = await fetch(later)
    expect(refused.status).toBe(403)
    expect(((await refused.json()) as any).error).toMatchObject({ code: 'invalid_signature' })
    expect((await download(`${t.url}/v1/images/content/${url.pathname.split('/').pop()}`)).status).toBe(403)

    // an image saved two hours ago, signed with the server's key: its URL has expired
    const past = new ImageStore(t.ctx.blobs, imageUrlSecret(t.ctx.config.dataDir), 3600, () => Math.floor(Date.now() / 1000) - 7200)
    const old = await past.save(await solidPng(8, [1, 1, 1]), 'png')
    const expired = await fetch(past.url(t.url, old))
    expect(expired.status).toBe(403)
    expect(((await expired.json()) as any).error).toMatchObject({ code: 'url_expired' })
    // a signed URL whose image is gone (swept): 404
    const now = new ImageStore(t.ctx.blobs, imageUrlSecret(t.ctx.config.dataDir), 3600)
    const gone = await now.save(await solidPng(8, [1, 1, 1]), 'png')
    await t.ctx.blobs.deletePrefix('images')
    expect((await fetch(now.url(t.url, gone))).status).toBe(404)
  })

  it('answers HEAD with the headers and leaves no file open', async () => {
    const result = await client.images.generate({ prompt: 'a lamp', size: '256x256' })
    const url = result.data![0].url!
    const bytes = (await download(url)).bytes
    for (let i = 0; i < 5; i++) {
      const head = await fetch(url, { method: 'HEAD' })
      expect(head.status).toBe(200)
      expect(head.headers.get('content-type')).toBe('image/png')
      expect(head.headers.get('content-length')).toBe(String(bytes.length))
    }
    // the server runs in this process: a HEAD's picture stayed open until garbage collection
    const id = new URL(url).pathname.split('/').pop()!
    const open = fs.existsSync('/proc/self/fd')
      ? fs.readdirSync('/proc/self/fd').filter((fd) => {
          try {
            return fs.readlinkSync(`/proc/self/fd/${fd}`).endsWith(id)
          } catch {
            return false
          }
        })
      : []
    expect(open).toEqual([])
  })

  it('sweeps the hours whose images have all expired', async () => {
    let clock = Math.floor(Date.now() / 1000)
    const store = new ImageStore(t.ctx.blobs, imageUrlSecret(t.ctx.config.dataDir), 3600, () => clock)
    const saved = await store.save(await solidPng(8, [1, 1, 1]), 'png')
    const key = `images/${Math.floor(saved.expires / 3600)}/${saved.id}`
    expect(await t.ctx.blobs.size(key)).toBeGreaterThan(0)
    await store.sweep()
    expect(await t.ctx.blobs.size(key)).toBeGreaterThan(0)
    clock += 2 * 3600 + 1
    await store.sweep()
    expect(await t.ctx.blobs.size(key)).toBeUndefined()
  })
})

describe('usage and limits', () => {
  it('records images by source and size, shown in usage/images', async () => {
    const start = Math.floor(Date.now() / 1000) - 60
    const fresh = await createTestApp()
    try {
      const c = fresh.client()
      await c.images.generate({ prompt: 'one', size: '256x256', n: 2, response_format: 'b64_json' })
      await c.images.edit({ image: await pngFile(await solidPng(64, [0, 0, 0], 0)), prompt: 'x', size: '512x512', response_format: 'b64_json' })
      await c.images.createVariation({ image: await pngFile(await solidPng(64, [5, 5, 5])), size: '256x256', n: 3, response_format: 'b64_json' })
      const admin = fresh.client(ADMIN_KEY, { adminAPIKey: ADMIN_KEY }).admin
      const page = await admin.organization.usage.images({ start_time: start, group_by: ['source', 'size'] })
      const rows = page.data.flatMap((b: any) => b.results).map((r: any) => [r.source, r.size, r.images, r.num_model_requests]).sort()
      expect(rows).toEqual([
        ['image.edit', '512x512', 1, 1],
        ['image.generation', '256x256', 2, 1],
        ['image.variation', '256x256', 3, 1],
      ])
    } finally {
      await fresh.close()
    }
  })

  it('charges max_images_per_1_minute: n images each request', async () => {
    const admin = t.client(ADMIN_KEY, { adminAPIKey: ADMIN_KEY }).admin
    const projectId = t.ctx.bootstrap.created!.project.id
    await admin.organization.projects.rateLimits.updateRateLimit('rl-test-image', { project_id: projectId, max_images_per_1_minute: 3 })
    const ask = (n: number) => post('/images/generations', { model: 'test-image', prompt: 'x', size: '256x256', n, response_format: 'b64_json' })
    expect((await ask(2)).status).toBe(200)
    const limited = await ask(2)
    expect(limited.status).toBe(429)
    expect(limited.body.error.message).toContain('images per min')
    expect((await ask(4)).status).toBe(429)
  })
})
