import type { Tensor } from './autograd.js'

export type AdamWOptions = { lr: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number }

/** AdamW (decoupled weight decay) over the LoRA tensors; its moments live only in memory. */
export class AdamW {
  private readonly m: Float32Array[]
  private readonly v: Float32Array[]
  private t = 0

  constructor(
    private readonly params: Tensor[],
    private readonly options: AdamWOptions,
  ) {
    this.m = params.map((p) => new Float32Array(p.data.length))
    this.v = params.map((p) => new Float32Array(p.data.length))
  }

  /** One update from the gradients, with the learning rate `lr`; then the gradients are zeroed. */
  step(lr = this.options.lr) {
    const { beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0 } = this.options
    this.t++
    const c1 = 1 - beta1 ** this.t
    const c2 = 1 - beta2 ** this.t
    this.params.forEach((p, i) => {
      const g = p.grad
      if (!g) return
      const m = this.m[i]
      const v = this.v[i]
      const w = p.data
      for (let j = 0; j < w.length; j++) {
        m[j] = beta1 * m[j] + (1 - beta1) * g[j]
        v[j] = beta2 * v[j] + (1 - beta2) * g[j] * g[j]
        w[j] -= lr * ((m[j] / c1) / (Math.sqrt(v[j] / c2) + eps) + weightDecay * w[j])
      }
      g.fill(0)
    })
  }
}
