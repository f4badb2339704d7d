import { add, attention, crossEntropy, gatherRows, linear, rmsnorm, rope, swiglu, Tape, Tensor, type LoraPair } from './autograd.js'
import { GGML_F16, GGML_F32, type GgufFile, type GgufHeader } from './gguf.js'

export type LlamaShape = {
  dim: number
  layers: number
  heads: number
  kvHeads: number
  headDim: number
  ffn: number
  vocab: number
  eps: number
  ropeBase: number
  ropeDims: number
  contextLength: number
  /** Whether output.weight exists (else the output is tied to token_embd, and gets no LoRA). */
  hasOutput: boolean
}

/** The weights of one block that LoRA adapts, by their GGUF name suffix. */
export const BLOCK_TARGETS = ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down'] as const
const BLOCK_NORMS = ['attn_norm', 'ffn_norm'] as const

/**
 * Why this GGUF cannot be trained here (undefined: it can): the llama architecture, F32/F16
 * weights, and no tensor the forward pass below does not know (biases, rope factors, experts).
 */
export function untrainableReason(header: GgufHeader): string | undefined {
  const arch = String(header.metadata.get('general.architecture') ?? '')
  if (arch !== 'llama')
    return `its architecture is '${arch || 'unknown'}'; the local trainer handles the llama architecture only`
  const quantized = header.tensors.find((t) => t.type !== GGML_F32 && t.type !== GGML_F16)
  if (quantized)
    return `its weights are quantized (tensor ${quantized.name} has ggml type ${quantized.type}); the local trainer reads F32 and F16 weights only`
  if (header.metadata.has('llama.expert_count') && Number(header.metadata.get('llama.expert_count')) > 0)
    return 'it is a mixture of experts; the local trainer handles dense llama models only'
  const shape = shapeOf(header)
  const known = new Set(['token_embd.weight', 'output_norm.weight', 'output.weight'])
  for (let l = 0; l < shape.layers; l++)
    for (const name of [...BLOCK_TARGETS, ...BLOCK_NORMS]) known.add(`blk.${l}.${name}.weight`)
  const unknown = header.tensors.find((t) => !known.has(t.name))
  if (unknown) return `it has a tensor the local trainer does not implement (${unknown.name})`
  const scaling = header.metadata.get('llama.rope.scaling.type')
  if (scaling !== undefined && scaling !== 'none')
    return `it uses rope scaling '${String(scaling)}', which the local trainer does not implement`
  return undefined
}

export function shapeOf(header: GgufHeader): LlamaShape {
  const m = header.metadata
  const num = (key: string, fallback?: number) => {
    const v = m.get(`llama.${key}`)
    if (v === undefined) {
      if (fallback === undefined) throw new Error(`the GGUF has no llama.${key}`)
      return fallback
    }
    return Number(v)
  }
  const dim = num('embedding_length')
  const heads = num('attention.head_count')
  const headDim = dim / heads
  const embd = header.tensors.find((t) => t.name === 'token_embd.weight')
  return {
    dim,
    layers: num('block_count'),
    heads,
    kvHeads: num('attention.head_count_kv', heads),
    headDim,
    ffn: num('feed_forward_length'),
    vocab: embd?.ne[1] ?? num('vocab_size'),
    eps: num('attention.layer_norm_rms_epsilon', 1e-5),
    ropeBase: num('rope.freq_base', 10000),
    ropeDims: num('rope.dimension_count', headDim),
    contextLength: num('context_length', 2048),
    hasOutput: header.tensors.some((t) => t.name === 'output.weight'),
  }
}

/** [n_in, n_out] of a LoRA target (ggml's ne of the base weight). */
export function targetShape(shape: LlamaShape, name: string): [number, number] {
  const kv = shape.kvHeads * shape.headDim
  if (name === 'output.weight') return [shape.dim, shape.vocab]
  const part = name.split('.')[2]
  switch (part) {
    case 'attn_q':
    case 'attn_output':
      return [shape.dim, shape.dim]
    case 'attn_k':
    case 'attn_v':
      return [shape.dim, kv]
    case 'ffn_gate':
    case 'ffn_up':
      return [shape.dim, shape.ffn]
    case 'ffn_down':
      return [shape.ffn, shape.dim]
  }
  throw new Error(`not a LoRA target: ${name}`)
}

/** Every weight LoRA adapts: q, k, v, o, gate, up, down of each block, and the output. */
export function loraTargets(shape: LlamaShape): string[] {
  const names: string[] = []
  for (let l = 0; l < shape.layers; l++) for (const t of BLOCK_TARGETS) names.push(`blk.${l}.${t}.weight`)
  if (shape.hasOutput) names.push('output.weight')
  return names
}

export type Lora = Map<string, LoraPair>

/** The llama forward pass (as llama.cpp's graph for LLM_ARCH_LLAMA) with LoRA on the targets. */
export class LlamaModel {
  private readonly weights = new Map<string, Float32Array>()

  constructor(
    readonly shape: LlamaShape,
    file: GgufFile,
  ) {
    for (const t of file.tensors) this.weights.set(t.name, file.tensor(t.name)!)
  }

  private w(name: string): Float32Array {
    const w = this.weights.get(name)
    if (!w) throw new Error(`missing tensor ${name}`)
    return w
  }

  /** The final hidden states (after output_norm) for `tokens` at positions 0..T-1. */
  hidden(tape: Tape, tokens: readonly number[], lora: Lora): Tensor {
    const s = this.shape
    const T = tokens.length
    const embd = this.w('token_embd.weight')
    const x0 = new Float32Array(T * s.dim)
    tokens.forEach((tok, t) => x0.set(embd.subarray(tok * s.dim, (tok + 1) * s.dim), t * s.dim))
    let x = new Tensor(x0, T, s.dim)
    const kv = s.kvHeads * s.headDim
    for (let l = 0; l < s.layers; l++) {
      const p = `blk.${l}.`
      const lin = (input: Tensor, name: string, n: number) => linear(tape, input, this.w(p + name + '.weight'), n, lora.get(p + name + '.weight'))
      const h = rmsnorm(tape, x, this.w(p + 'attn_norm.weight'), s.eps)
      const q = rope(tape, lin(h, 'attn_q', s.dim), s.heads, s.headDim, s.ropeDims, s.ropeBase)
      const k = rope(tape, lin(h, 'attn_k', kv), s.kvHeads, s.headDim, s.ropeDims, s.ropeBase)
      const v = lin(h, 'attn_v', kv)
      const att = attention(tape, q, k, v, s.heads, s.kvHeads, s.headDim)
      x = add(tape, x, lin(att, 'attn_output', s.dim))
      const h2 = rmsnorm(tape, x, this.w(p + 'ffn_norm.weight'), s.eps)
      const ff = swiglu(tape, lin(h2, 'ffn_gate', s.ffn), lin(h2, 'ffn_up', s.ffn))
      x = add(tape, x, lin(ff, 'ffn_down', s.dim))
    }
    return rmsnorm(tape, x, this.w('output_norm.weight'), s.eps)
  }

  logits(tape: Tape, hidden: Tensor, lora: Lora): Tensor {
    const out = this.shape.hasOutput ? 'output.weight' : 'token_embd.weight'
    return linear(tape, hidden, this.w(out), this.shape.vocab, lora.get('output.weight'))
  }

  /**
   * The summed loss over the targets (targets[t] is the token expected after position t, or −1
   * for none), with the backward pass recorded on `tape` scaled by `weight`. Only the target
   * positions go through the output layer.
   */
  loss(tape: Tape, tokens: readonly number[], targets: readonly number[], lora: Lora, weight: number): number {
    const rows: number[] = []
    const expected: number[] = []
    targets.forEach((target, t) => {
      if (target >= 0) {
        rows.push(t)
        expected.push(target)
      }
    })
    if (!rows.length) return 0
    const hidden = this.hidden(tape, tokens, lora)
    const logits = this.logits(tape, gatherRows(tape, hidden, rows), lora)
    return crossEntropy(tape, logits, expected, weight)
  }

  /** Next-token logits after each of `tokens` (no gradient): for checks against llama.cpp. */
  forwardLogits(tokens: readonly number[], lora: Lora): Tensor {
    const tape = new Tape()
    return this.logits(tape, this.hidden(tape, tokens, lora), lora)
  }
}
