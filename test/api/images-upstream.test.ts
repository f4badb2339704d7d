import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { leftHalfMask, pngFile, solidPng } from '../helpers/images.js'
import { startFakeImageUpstream, UPSTREAM_PICTURE, type FakeImageUpstream } from '../helpers/fake-image-upstream.js'
import { ADMIN_KEY, createTestApp, type TestApp } from '../helpers/test-context.js'

let fake: FakeImageUpstream
let t: TestApp
let client: OpenAI
beforeAll(async () => {
  fake = await startFakeImageUpstream()
  t = await createTestApp({
    upstreams: [{ id: 'pictures', baseURL: fake.baseURL }],
    models: [
      { id: 'sdxl', provider: 'openai-compatible', upstream: 'pictures', upstreamModel: 'stable-diffusion-xl' },
      // a configured model of an OpenAI name wins over the test-image alias
      { id: 'gpt-image-1', provider: 'openai-compatible', upstream: 'pictures' },
    ],
  })
  client = t.client()
})
afterAll(async () => {
  await t.close()
  await fake.close()
})

describe('images from an OpenAI-compatible upstream', () => {
  it("passes generations through, the upstream's URL and base64 alike", async () => {
    const byUrl = await client.images.generate({ model: 'sdxl', prompt: 'a harbour', n: 2, size: '1792x1024', user: 'u-1' })
    expect(byUrl.data!.map((d) => d.url)).toEqual(['https://upstream.example/picture-0.png', 'https://upstream.example/picture-1.png'])
    expect(byUrl.data![0].revised_prompt).toBe('upstream revised')
    expect(fake.requests.at(-1)).toMatchObject({
      path: '/v1/images/generations',
      fields: { model: 'stable-diffusion-xl', prompt: 'a harbour', n: 2, size: '1792x1024', user: 'u-1' },
    })
    const b64 = await client.images.generate({ model: 'sdxl', prompt: 'a harbour', response_format: 'b64_json' })
    expect(Buffer.from(b64.data![0].b64_json!, 'base64').equals(UPSTREAM_PICTURE)).toBe(true)
    const gpt = await client.images.generate({ model: 'gpt-image-1', prompt: 'x', quality: 'high' })
    expect(gpt.usage).toEqual({ total_tokens: 30, input_tokens: 10, output_tokens: 20, input_tokens_details: { text_tokens: 4, image_tokens: 6 } })
    // OpenAI's names keep OpenAI's rules, whoever serves them
    await expect(client.images.generate({ model: 'gpt-image-1', prompt: 'x', response_format: 'url' })).rejects.toMatchObject({ status: 400, code: 'unknown_parameter' })
  })

  it('forwards edits and variations as multipart: the pictures, the mask and the fields', async () => {
    const image = await solidPng(64, [10, 20, 30])
    const mask = await leftHalfMask(64)
    const edit = await client.images.edit({ model: 'sdxl', image: await pngFile(image), mask: await pngFile(mask, 'mask.png'), prompt: 'a boat', n: 1, size: '512x512' })
    expect(edit.data![0].url).toBe('https://upstream.example/picture-0.png')
    const sent = fake.requests.at(-1)!
    expect(sent.path).toBe('/v1/images/edits')
    expect(sent.fields).toEqual({ model: 'stable-diffusion-xl', prompt: 'a boat', n: '1', size: '512x512' })
    expect(sent.files.map((f) => [f.field, f.type, f.bytes.equals(f.field === 'mask' ? mask : image)])).toEqual([
      ['image', 'image/png', true],
      ['mask', 'image/png', true],
    ])
    // several pictures go as image[]
    await client.images.edit({ model: 'gpt-image-1', image: [await pngFile(image), await pngFile(image, 'b.png')], prompt: 'two' })
    expect(fake.requests.at(-1)!.files.map((f) => f.field)).toEqual(['image[]', 'image[]'])
    const variation = await client.images.createVariation({ model: 'sdxl', image: await pngFile(image), response_format: 'b64_json' })
    expect(Buffer.from(variation.data![0].b64_json!, 'base64').equals(UPSTREAM_PICTURE)).toBe(true)
    expect(fake.requests.at(-1)).toMatchObject({ path: '/v1/images/variations', fields: { model: 'stable-diffusion-xl', response_format: 'b64_json' } })
  })

  it("gives the upstream's 400 to the client and records usage for what it answered", async () => {
    const start = Math.floor(Date.now() / 1000) - 60
    await expect(client.images.generate({ model: 'sdxl', prompt: 'fail' })).rejects.toMatchObject({ status: 400 })
    const admin = t.client(ADMIN_KEY, { adminAPIKey: ADMIN_KEY }).admin
    const page = await admin.organization.usage.images({ start_time: start, group_by: ['model'], models: ['sdxl'] })
    const images = page.data.flatMap((b: any) => b.results).reduce((n: number, r: any) => n + r.images, 0)
    expect(images).toBe(5) // 2 + 1 generations, 1 edit, 1 variation
  })
})
