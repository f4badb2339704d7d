import { matmulNNAcc, matmulNT, matmulTNAcc } from './kernels.js'

/**
 * A reverse-mode autograd over Float32Arrays with coarse fused ops, each with its own backward:
 * just what a llama forward pass with LoRA needs. Every tensor is a [rows × cols] matrix; a
 * tensor that needs no gradient (the frozen base's activations before the first LoRA) gets none.
 */
export class Tensor {
  grad: Float32Array | undefined
  constructor(
    readonly data: Float32Array,
    readonly rows: number,
    readonly cols: number,
    readonly needsGrad = false,
  ) {}

  /** The gradient, allocated (zeros) on first use. */
  g(): Float32Array {
    return (this.grad ??= new Float32Array(this.data.length))
  }
}

/** The backward steps of one forward pass, run in reverse by `backward()`. */
export class Tape {
  private readonly steps: (() => void)[] = []

  push(step: () => void) {
    this.steps.push(step)
  }

  backward() {
    for (let i = this.steps.length - 1; i >= 0; i--) this.steps[i]()
    this.steps.length = 0
  }
}

/** A LoRA pair on a weight [N×K]: A is [r×K], B is [N×r]; the update is scale·B·A. */
export type LoraPair = { a: Tensor; b: Tensor; rank: number; scale: number }

/** y = x·Wᵀ (+ scale·(x·Aᵀ)·Bᵀ). W [N×K] is frozen. */
export function linear(tape: Tape, x: Tensor, w: Float32Array, n: number, lora?: LoraPair): Tensor {
  const T = x.rows
  const K = x.cols
  const needsGrad = x.needsGrad || lora !== undefined
  const y = new Tensor(new Float32Array(T * n), T, n, needsGrad)
  matmulNT(y.data, x.data, w, T, K, n)
  let u: Float32Array | undefined
  if (lora) {
    const r = lora.rank
    u = new Float32Array(T * r)
    matmulNT(u, x.data, lora.a.data, T, K, r)
    const scaled = new Float32Array(T * r)
    for (let i = 0; i < u.length; i++) scaled[i] = u[i] * lora.scale
    matmulNT(y.data, scaled, lora.b.data, T, r, n, true)
  }
  if (needsGrad)
    tape.push(() => {
      const dy = y.grad
      if (!dy) return
      if (x.needsGrad) matmulNNAcc(x.g(), dy, w, T, n, K)
      if (lora && u) {
        const r = lora.rank
        const s = lora.scale
        // dB += s·dyᵀ·u; du = s·dy·B; dA += duᵀ·x; dx += du·A
        const su = new Float32Array(u.length)
        for (let i = 0; i < u.length; i++) su[i] = u[i] * s
        matmulTNAcc(lora.b.g(), dy, su, T, n, r)
        const du = new Float32Array(T * r)
        matmulNNAcc(du, dy, lora.b.data, T, n, r)
        for (let i = 0; i < du.length; i++) du[i] *= s
        matmulTNAcc(lora.a.g(), du, x.data, T, r, K)
        if (x.needsGrad) matmulNNAcc(x.g(), du, lora.a.data, T, r, K)
      }
    })
  return y
}

export function add(tape: Tape, a: Tensor, b: Tensor): Tensor {
  const out = new Float32Array(a.data.length)
  for (let i = 0; i < out.length; i++) out[i] = a.data[i] + b.data[i]
  const y = new Tensor(out, a.rows, a.cols, a.needsGrad || b.needsGrad)
  if (y.needsGrad)
    tape.push(() => {
      const dy = y.grad
      if (!dy) return
      for (const t of [a, b]) {
        if (!t.needsGrad) continue
        const g = t.g()
        for (let i = 0; i < g.length; i++) g[i] += dy[i]
      }
    })
  return y
}

/** y = x / sqrt(mean(x²) + eps) ∘ w, per row (w frozen). */
export function rmsnorm(tape: Tape, x: Tensor, w: Float32Array, eps: number): Tensor {
  const { rows: T, cols: D } = x
  const out = new Float32Array(T * D)
  const inv = new Float32Array(T)
  for (let t = 0; t < T; t++) {
    let ss = 0
    for (let d = 0; d < D; d++) ss += x.data[t * D + d] * x.data[t * D + d]
    const r = 1 / Math.sqrt(ss / D + eps)
    inv[t] = r
    for (let d = 0; d < D; d++) out[t * D + d] = x.data[t * D + d] * r * w[d]
  }
  const y = new Tensor(out, T, D, x.needsGrad)
  if (x.needsGrad)
    tape.push(() => {
      const dy = y.grad
      if (!dy) return
      const dx = x.g()
      for (let t = 0; t < T; t++) {
        const r = inv[t]
        let m = 0
        for (let d = 0; d < D; d++) m += dy[t * D + d] * w[d] * x.data[t * D + d]
        m = (m * r * r) / D
        for (let d = 0; d < D; d++) dx[t * D + d] += r * (dy[t * D + d] * w[d] - x.data[t * D + d] * m)
      }
    })
  return y
}

/**
 * Rotary embedding as llama.cpp's NORM mode (the llama architecture): adjacent pairs (2i, 2i+1)
 * of each head's first `nRot` dimensions turn by pos·base^(-2i/nRot).
 */
export function rope(tape: Tape, x: Tensor, heads: number, headDim: number, nRot: number, base: number): Tensor {
  const { rows: T, cols: C } = x
  const half = nRot / 2
  const cos = new Float32Array(T * half)
  const sin = new Float32Array(T * half)
  for (let t = 0; t < T; t++)
    for (let i = 0; i < half; i++) {
      const theta = t * Math.pow(base, (-2 * i) / nRot)
      cos[t * half + i] = Math.cos(theta)
      sin[t * half + i] = Math.sin(theta)
    }
  const out = new Float32Array(x.data)
  for (let t = 0; t < T; t++)
    for (let h = 0; h < heads; h++) {
      const o = t * C + h * headDim
      for (let i = 0; i < half; i++) {
        const c = cos[t * half + i]
        const s = sin[t * half + i]
        const x0 = x.data[o + 2 * i]
        const x1 = x.data[o + 2 * i + 1]
        out[o + 2 * i] = x0 * c - x1 * s
        out[o + 2 * i + 1] = x0 * s + x1 * c
      }
    }
  const y = new Tensor(out, T, C, x.needsGrad)
  if (x.needsGrad)
    tape.push(() => {
      const dy = y.grad
      if (!dy) return
      const dx = x.g()
      for (let t = 0; t < T; t++)
        for (let h = 0; h < heads; h++) {
          const o = t * C + h * headDim
          for (let i = 0; i < half; i++) {
            const c = cos[t * half + i]
            const s = sin[t * half + i]
            const d0 = dy[o + 2 * i]
            const d1 = dy[o + 2 * i + 1]
            dx[o + 2 * i] += d0 * c + d1 * s
            dx[o + 2 * i + 1] += -d0 * s + d1 * c
          }
          for (let d = nRot; d < headDim; d++) dx[o + d] += dy[o + d]
        }
    })
  return y
}

/**
 * Causal attention with grouped KV heads (query head h reads KV head ⌊h / (heads/kvHeads)⌋, as
 * ggml's broadcast does). Each head is gathered into contiguous [T×headDim] matrices so that the
 * blocked kernels do the products (the full T×T square: twice the causal work, still faster).
 * Keeps the probabilities for the backward pass: heads·T² floats.
 */
export function attention(tape: Tape, q: Tensor, k: Tensor, v: Tensor, heads: number, kvHeads: number, headDim: number): Tensor {
  const T = q.rows
  const D = headDim
  const group = heads / kvHeads
  const scale = 1 / Math.sqrt(D)
  const probs = new Float32Array(heads * T * T)
  const out = new Float32Array(T * q.cols)
  const qh = new Float32Array(T * D)
  const kh = new Float32Array(T * D)
  const vh = new Float32Array(T * D)
  const oh = new Float32Array(T * D)
  for (let h = 0; h < heads; h++) {
    const kvh = Math.floor(h / group)
    gatherHead(qh, q, h, D)
    gatherHead(kh, k, kvh, D)
    gatherHead(vh, v, kvh, D)
    const p = probs.subarray(h * T * T, (h + 1) * T * T)
    matmulNT(p, qh, kh, T, D, T)
    for (let i = 0; i < T; i++) {
      const row = i * T
      let max = -Infinity
      for (let j = 0; j <= i; j++) {
        const x = p[row + j] * scale
        p[row + j] = x
        if (x > max) max = x
      }
      let sum = 0
      for (let j = 0; j <= i; j++) {
        const e = Math.exp(p[row + j] - max)
        p[row + j] = e
        sum += e
      }
      const inv = 1 / sum
      for (let j = 0; j <= i; j++) p[row + j] *= inv
      p.fill(0, row + i + 1, row + T)
    }
    oh.fill(0)
    matmulNNAcc(oh, p, vh, T, T, D)
    scatterHead(out, oh, h, D, q.cols)
  }
  const y = new Tensor(out, T, q.cols, q.needsGrad || k.needsGrad || v.needsGrad)
  if (y.needsGrad)
    tape.push(() => {
      const dy = y.grad
      if (!dy) return
      const dq = q.g()
      const dk = k.g()
      const dv = v.g()
      const dyh = new Float32Array(T * D)
      const ds = new Float32Array(T * T)
      const dqh = new Float32Array(T * D)
      const dkh = new Float32Array(T * D)
      const dvh = new Float32Array(T * D)
      for (let h = 0; h < heads; h++) {
        const kvh = Math.floor(h / group)
        gatherHead(qh, q, h, D)
        gatherHead(kh, k, kvh, D)
        gatherHead(vh, v, kvh, D)
        gatherHead(dyh, y.grad!, h, D, q.cols)
        const p = probs.subarray(h * T * T, (h + 1) * T * T)
        // dP = dy·Vᵀ; dV = Pᵀ·dy; dS = P∘(dP − Σ P∘dP)·scale; dQ = dS·K; dK = dSᵀ·Q
        matmulNT(ds, dyh, vh, T, D, T)
        dvh.fill(0)
        matmulTNAcc(dvh, p, dyh, T, T, D)
        for (let i = 0; i < T; i++) {
          const row = i * T
          let dot = 0
          for (let j = 0; j <= i; j++) dot += p[row + j] * ds[row + j]
          for (let j = 0; j <= i; j++) ds[row + j] = p[row + j] * (ds[row + j] - dot) * scale
          ds.fill(0, row + i + 1, row + T)
        }
        dqh.fill(0)
        matmulNNAcc(dqh, ds, kh, T, T, D)
        dkh.fill(0)
        matmulTNAcc(dkh, ds, qh, T, T, D)
        addHead(dq, dqh, h, D, q.cols)
        addHead(dk, dkh, kvh, D, k.cols)
        addHead(dv, dvh, kvh, D, v.cols)
      }
    })
  return y
}

/** Head h's columns of x (or of `data` with `cols` columns) as a contiguous [T×D] matrix. */
function gatherHead(into: Float32Array, x: Tensor | Float32Array, h: number, D: number, cols?: number) {
  const data = x instanceof Tensor ? x.data : x
  const C = x instanceof Tensor ? x.cols : cols!
  const T = into.length / D
  for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) into[t * D + d] = data[t * C + h * D + d]
}

function scatterHead(out: Float32Array, from: Float32Array, h: number, D: number, cols: number) {
  const T = from.length / D
  for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) out[t * cols + h * D + d] = from[t * D + d]
}

function addHead(out: Float32Array, from: Float32Array, h: number, D: number, cols: number) {
  const T = from.length / D
  for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) out[t * cols + h * D + d] += from[t * D + d]
}

/** silu(gate) ∘ up. */
export function swiglu(tape: Tape, gate: Tensor, up: Tensor): Tensor {
  const n = gate.data.length
  const out = new Float32Array(n)
  const sig = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    const g = gate.data[i]
    const s = 1 / (1 + Math.exp(-g))
    sig[i] = s
    out[i] = g * s * up.data[i]
  }
  const y = new Tensor(out, gate.rows, gate.cols, gate.needsGrad || up.needsGrad)
  if (y.needsGrad)
    tape.push(() => {
      const dy = y.grad
      if (!dy) return
      const dg = gate.needsGrad ? gate.g() : undefined
      const du = up.needsGrad ? up.g() : undefined
      for (let i = 0; i < n; i++) {
        const g = gate.data[i]
        const s = sig[i]
        if (du) du[i] += dy[i] * g * s
        if (dg) dg[i] += dy[i] * up.data[i] * s * (1 + g * (1 - s))
      }
    })
  return y
}

/** The rows `index` of x (the positions whose next token is a target). */
export function gatherRows(tape: Tape, x: Tensor, index: readonly number[]): Tensor {
  const C = x.cols
  const out = new Float32Array(index.length * C)
  index.forEach((row, i) => out.set(x.data.subarray(row * C, row * C + C), i * C))
  const y = new Tensor(out, index.length, C, x.needsGrad)
  if (x.needsGrad)
    tape.push(() => {
      const dy = y.grad
      if (!dy) return
      const dx = x.g()
      index.forEach((row, i) => {
        for (let c = 0; c < C; c++) dx[row * C + c] += dy[i * C + c]
      })
    })
  return y
}

/**
 * Σ over rows of −log softmax(logits)[target], times `weight` (1/targets of the batch, so that
 * the batch's loss is a mean per target token). Returns the unweighted sum.
 */
export function crossEntropy(tape: Tape, logits: Tensor, targets: readonly number[], weight: number): number {
  const { rows: T, cols: V } = logits
  let total = 0
  const dl = new Float32Array(T * V)
  for (let t = 0; t < T; t++) {
    const o = t * V
    let max = -Infinity
    for (let v = 0; v < V; v++) if (logits.data[o + v] > max) max = logits.data[o + v]
    let sum = 0
    for (let v = 0; v < V; v++) {
      const e = Math.exp(logits.data[o + v] - max)
      dl[o + v] = e
      sum += e
    }
    total += Math.log(sum) + max - logits.data[o + targets[t]]
    for (let v = 0; v < V; v++) dl[o + v] = (dl[o + v] / sum) * weight
    dl[o + targets[t]] -= weight
  }
  if (logits.needsGrad)
    tape.push(() => {
      const g = logits.g()
      for (let i = 0; i < g.length; i++) g[i] += dl[i]
    })
  return total
}
