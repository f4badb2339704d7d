import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { halfToFloat, readGguf, readGgufHeader, type GgufHeader } from './gguf.js'
import { shapeOf, untrainableReason, type LlamaShape } from './llama-model.js'
import { initLora, readAdapter, writeAdapter } from './lora.js'

const STORIES = path.resolve(import.meta.dirname, '../../../../../shared/models/stories260K.gguf')

describe('GGUF', () => {
  it('reads the header and F32 tensors of stories260K', () => {
    const header = readGgufHeader(STORIES)
    expect(header.version).toBe(3)
    expect(header.metadata.get('general.architecture')).toBe('llama')
    expect(header.tensors).toHaveLength(48)
    const shape = shapeOf(header)
    expect(shape).toMatchObject({ dim: 64, layers: 5, heads: 8, kvHeads: 4, ffn: 172, vocab: 512, ropeDims: 8 })
    expect(readGguf(STORIES).tensor('blk.0.attn_k.weight')).toHaveLength(64 * 32)
    expect(untrainableReason(header)).toBeUndefined()
  })

  it('writes an adapter that reads back exactly, with the layout llama.cpp expects', () => {
    const shape = shapeOf(readGgufHeader(STORIES))
    const lora = initLora(shape, 1)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-gguf-'))
    try {
      const file = path.join(dir, 'a.gguf')
      writeAdapter(file, 'llama', lora, 'test')
      const header = readGgufHeader(file)
      expect(header.metadata.get('general.type')).toBe('adapter')
      expect(header.metadata.get('adapter.type')).toBe('lora')
      expect(header.metadata.get('adapter.lora.alpha')).toBe(16)
      expect(header.dataOffset % 32).toBe(0)
      expect(header.tensors.find((t) => t.name === 'blk.2.ffn_down.weight.lora_a')?.ne).toEqual([172, 8])
      expect(header.tensors.find((t) => t.name === 'blk.2.ffn_down.weight.lora_b')?.ne).toEqual([8, 64])
      expect(header.tensors.find((t) => t.name === 'output.weight.lora_b')?.ne).toEqual([8, 512])
      const back = readAdapter(file, shape)
      for (const [name, pair] of lora) {
        expect(back.get(name)!.a.data).toEqual(pair.a.data)
        expect(back.get(name)!.b.data).toEqual(pair.b.data)
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('converts F16', () => {
    expect(halfToFloat(0x3c00)).toBe(1)
    expect(halfToFloat(0xc000)).toBe(-2)
    expect(halfToFloat(0x3555)).toBeCloseTo(0.33325, 5)
    expect(halfToFloat(0x0001)).toBe(2 ** -24)
  })

  it('refuses other architectures, quantized weights and unknown tensors, saying why', () => {
    const base = readGgufHeader(STORIES)
    const variant = (change: (h: GgufHeader) => void): GgufHeader => {
      const h: GgufHeader = { ...base, metadata: new Map(base.metadata), tensors: base.tensors.map((t) => ({ ...t })) }
      change(h)
      return h
    }
    expect(untrainableReason(variant((h) => h.metadata.set('general.architecture', 'qwen2')))).toMatch(
      /architecture is 'qwen2'; the local trainer handles the llama architecture only/,
    )
    expect(untrainableReason(variant((h) => (h.tensors[3].type = 8)))).toMatch(
      /weights are quantized \(tensor blk.0.attn_q.weight has ggml type 8\)/,
    )
    expect(
      untrainableReason(variant((h) => h.tensors.push({ name: 'blk.0.attn_q.bias', ne: [64], type: 0, offset: 0 }))),
    ).toMatch(/does not implement \(blk.0.attn_q.bias\)/)
    const tied: LlamaShape = shapeOf(variant((h) => (h.tensors = h.tensors.filter((t) => t.name !== 'output.weight'))))
    expect(tied.hasOutput).toBe(false)
  })
})
