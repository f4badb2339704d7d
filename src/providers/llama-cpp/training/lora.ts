import { Tensor } from './autograd.js'
import { readGguf, writeGguf } from './gguf.js'
import { loraTargets, targetShape, type Lora, type LlamaShape } from './llama-model.js'

export const LORA_RANK = 8
export const LORA_ALPHA = 16

/** A small seeded PRNG (mulberry32): the same seed gives the same run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Fresh LoRA pairs, as PEFT starts them: A uniform in ±1/√n_in (Kaiming, a = √5), B zero, so
 * training starts from the base model's exact output.
 */
export function initLora(shape: LlamaShape, seed: number): Lora {
  const random = rng(seed)
  const lora: Lora = new Map()
  for (const name of loraTargets(shape)) {
    const [nIn, nOut] = targetShape(shape, name)
    const a = new Float32Array(LORA_RANK * nIn)
    const bound = 1 / Math.sqrt(nIn)
    for (let i = 0; i < a.length; i++) a[i] = (random() * 2 - 1) * bound
    lora.set(name, {
      a: new Tensor(a, LORA_RANK, nIn, true),
      b: new Tensor(new Float32Array(nOut * LORA_RANK), nOut, LORA_RANK, true),
      rank: LORA_RANK,
      scale: LORA_ALPHA / LORA_RANK,
    })
  }
  return lora
}

/**
 * The adapter as llama.cpp loads it (src/llama-adapter.cpp): general.type 'adapter',
 * adapter.type 'lora', adapter.lora.alpha; `<weight>.lora_a` with ne [n_in, r] and
 * `<weight>.lora_b` with ne [r, n_out], F32. Applied as W·x + (alpha/r)·scale·B·(A·x).
 */
export function writeAdapter(file: string, architecture: string, lora: Lora, name: string) {
  const tensors = [...lora].flatMap(([weight, pair]) => [
    { name: `${weight}.lora_a`, ne: [pair.a.cols, pair.rank], data: pair.a.data },
    { name: `${weight}.lora_b`, ne: [pair.rank, pair.b.rows], data: pair.b.data },
  ])
  writeGguf(
    file,
    [
      ['general.architecture', { type: 'string', value: architecture }],
      ['general.type', { type: 'string', value: 'adapter' }],
      ['general.name', { type: 'string', value: name }],
      ['adapter.type', { type: 'string', value: 'lora' }],
      ['adapter.lora.alpha', { type: 'f32', value: LORA_ALPHA }],
    ],
    tensors,
  )
}

/** An adapter written by writeAdapter, back as trainable pairs (to resume from a checkpoint). */
export function readAdapter(file: string, shape: LlamaShape): Lora {
  const gguf = readGguf(file)
  const alpha = Number(gguf.metadata.get('adapter.lora.alpha') ?? LORA_ALPHA)
  const lora: Lora = new Map()
  for (const name of loraTargets(shape)) {
    const [nIn, nOut] = targetShape(shape, name)
    const a = gguf.tensor(`${name}.lora_a`)
    const b = gguf.tensor(`${name}.lora_b`)
    if (!a || !b) throw new Error(`the adapter ${file} has no LoRA pair for ${name}`)
    const rank = a.length / nIn
    if (b.length !== rank * nOut) throw new Error(`the adapter's ${name} pair has the wrong shape`)
    lora.set(name, { a: new Tensor(a, rank, nIn, true), b: new Tensor(b, nOut, rank, true), rank, scale: alpha / rank })
  }
  return lora
}
