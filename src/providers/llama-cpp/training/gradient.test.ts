import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Tape } from './autograd.js'
import { readGguf } from './gguf.js'
import { LlamaModel, shapeOf, type Lora } from './llama-model.js'
import { initLora, rng } from './lora.js'

const STORIES = path.resolve(import.meta.dirname, '../../../../../shared/models/stories260K.gguf')

/**
 * The backward pass against central finite differences of the forward pass, on stories260K with
 * every LoRA pair. The forward pass is float32, so a difference quotient carries about
 * ε·|L|/h ≈ 6e-8·3/1e-2 ≈ 2e-5 of rounding noise: an entry is checked only where its gradient
 * is well above that (the 40 largest), to 3% relative; the directional derivative along the whole
 * gradient, which sums thousands of entries, to 1%. A wrong term in any op's backward (a missing
 * scale, a transposed product) is off by tens of percent or more.
 */
describe('gradients against finite differences', () => {
  const file = readGguf(STORIES)
  const model = new LlamaModel(shapeOf(file), file)
  const lora = initLora(model.shape, 3)
  const random = rng(5)
  // B starts at zero, where A's gradient is zero too: a trained-looking B checks both
  for (const pair of lora.values()) for (let i = 0; i < pair.b.data.length; i++) pair.b.data[i] = (random() * 2 - 1) * 0.05
  const tokens = [1, 400, 261, 300, 270, 310, 290, 280, 350, 260, 330, 270]
  const targets = [...tokens.slice(1), 2].map((t, i) => (i >= 3 ? t : -1))
  const loss = (l: Lora) => model.loss(new Tape(), tokens, targets, l, 0)
  const params = [...lora.values()].flatMap((p) => [p.a, p.b])
  const tape = new Tape()
  model.loss(tape, tokens, targets, lora, 1)
  tape.backward()

  it('matches per entry where the gradient is large', () => {
    const entries = params.flatMap((p, pi) => Array.from(p.grad!, (g, i) => ({ pi, i, g })))
    entries.sort((a, b) => Math.abs(b.g) - Math.abs(a.g))
    const h = 1e-2
    let worst = 0
    for (const { pi, i, g } of entries.slice(0, 40)) {
      const w = params[pi].data
      const saved = w[i]
      w[i] = saved + h
      const up = loss(lora)
      w[i] = saved - h
      const down = loss(lora)
      w[i] = saved
      const numeric = (up - down) / (2 * h)
      worst = Math.max(worst, Math.abs(numeric - g) / Math.abs(g))
    }
    console.log(`gradient check: worst relative error ${worst.toExponential(2)} on the 40 largest entries`)
    expect(worst).toBeLessThan(0.03)
  })

  it('matches along the gradient direction', () => {
    const norm2 = params.reduce((n, p) => n + p.grad!.reduce((s, g) => s + g * g, 0), 0)
    const h = 1e-2 / Math.sqrt(norm2)
    const shift = (sign: number) => params.forEach((p) => p.data.forEach((_, i) => (p.data[i] += sign * h * p.grad![i])))
    shift(1)
    const up = loss(lora)
    shift(-2)
    const down = loss(lora)
    shift(1)
    const numeric = (up - down) / (2 * h)
    console.log(`directional derivative: ${numeric.toFixed(5)} numeric, ${norm2.toFixed(5)} analytic`)
    expect(Math.abs(numeric - norm2) / norm2).toBeLessThan(0.01)
  })
})
