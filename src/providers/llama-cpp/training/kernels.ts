/**
 * The matrix products of the trainer, on row-major Float32Arrays. They dominate its time, so
 * matmulNT keeps a 4×2 block of outputs in registers (each loaded value is used 2-4 times):
 * about 4-5× the naive loop on V8.
 */

/** out[t][n] (+)= Σk x[t][k]·w[n][k]: x is [T×K], w is [N×K] (a weight as llama.cpp stores it). */
export function matmulNT(
  out: Float32Array,
  x: Float32Array,
  w: Float32Array,
  T: number,
  K: number,
  N: number,
  accumulate = false,
) {
  let t = 0
  for (; t + 4 <= T; t += 4) {
    const x0 = t * K
    const x1 = x0 + K
    const x2 = x1 + K
    const x3 = x2 + K
    let n = 0
    for (; n + 2 <= N; n += 2) {
      const w0 = n * K
      const w1 = w0 + K
      let a00 = 0, a01 = 0, a10 = 0, a11 = 0, a20 = 0, a21 = 0, a30 = 0, a31 = 0
      for (let k = 0; k < K; k++) {
        const b0 = w[w0 + k]
        const b1 = w[w1 + k]
        const v0 = x[x0 + k]
        const v1 = x[x1 + k]
        const v2 = x[x2 + k]
        const v3 = x[x3 + k]
        a00 += v0 * b0
        a01 += v0 * b1
        a10 += v1 * b0
        a11 += v1 * b1
        a20 += v2 * b0
        a21 += v2 * b1
        a30 += v3 * b0
        a31 += v3 * b1
      }
      const o = t * N + n
      if (accumulate) {
        out[o] += a00
        out[o + 1] += a01
        out[o + N] += a10
        out[o + N + 1] += a11
        out[o + 2 * N] += a20
        out[o + 2 * N + 1] += a21
        out[o + 3 * N] += a30
        out[o + 3 * N + 1] += a31
      } else {
        out[o] = a00
        out[o + 1] = a01
        out[o + N] = a10
        out[o + N + 1] = a11
        out[o + 2 * N] = a20
        out[o + 2 * N + 1] = a21
        out[o + 3 * N] = a30
        out[o + 3 * N + 1] = a31
      }
    }
    for (; n < N; n++) for (let r = 0; r < 4; r++) store(out, (t + r) * N + n, dot(x, (t + r) * K, w, n * K, K), accumulate)
  }
  for (; t < T; t++) for (let n = 0; n < N; n++) store(out, t * N + n, dot(x, t * K, w, n * K, K), accumulate)
}

/** out[t][k] += Σn d[t][n]·w[n][k]: d is [T×N], w is [N×K] (the input's gradient of x·wᵀ). */
export function matmulNNAcc(out: Float32Array, d: Float32Array, w: Float32Array, T: number, N: number, K: number) {
  let t = 0
  for (; t + 4 <= T; t += 4) {
    const o0 = t * K
    const o1 = o0 + K
    const o2 = o1 + K
    const o3 = o2 + K
    let n = 0
    for (; n + 2 <= N; n += 2) {
      const d00 = d[t * N + n], d01 = d[t * N + n + 1]
      const d10 = d[(t + 1) * N + n], d11 = d[(t + 1) * N + n + 1]
      const d20 = d[(t + 2) * N + n], d21 = d[(t + 2) * N + n + 1]
      const d30 = d[(t + 3) * N + n], d31 = d[(t + 3) * N + n + 1]
      const w0 = n * K
      const w1 = w0 + K
      for (let k = 0; k < K; k++) {
        const b0 = w[w0 + k]
        const b1 = w[w1 + k]
        out[o0 + k] += d00 * b0 + d01 * b1
        out[o1 + k] += d10 * b0 + d11 * b1
        out[o2 + k] += d20 * b0 + d21 * b1
        out[o3 + k] += d30 * b0 + d31 * b1
      }
    }
    for (; n < N; n++) for (let r = 0; r < 4; r++) axpy(out, (t + r) * K, d[(t + r) * N + n], w, n * K, K)
  }
  for (; t < T; t++) for (let n = 0; n < N; n++) axpy(out, t * K, d[t * N + n], w, n * K, K)
}

/** out[n][k] += Σt d[t][n]·x[t][k]: a weight's gradient (only LoRA's small matrices need it). */
export function matmulTNAcc(out: Float32Array, d: Float32Array, x: Float32Array, T: number, N: number, K: number) {
  for (let t = 0; t < T; t++) for (let n = 0; n < N; n++) axpy(out, n * K, d[t * N + n], x, t * K, K)
}

function dot(a: Float32Array, ai: number, b: Float32Array, bi: number, K: number): number {
  let s = 0
  for (let k = 0; k < K; k++) s += a[ai + k] * b[bi + k]
  return s
}

function axpy(out: Float32Array, oi: number, alpha: number, x: Float32Array, xi: number, K: number) {
  if (alpha === 0) return
  for (let k = 0; k < K; k++) out[oi + k] += alpha * x[xi + k]
}

function store(out: Float32Array, i: number, v: number, accumulate: boolean) {
  if (accumulate) out[i] += v
  else out[i] = v
}
