// npm run bench:finetune: the local LoRA trainer on stories260K.gguf, as a fine-tuning job runs
// it (the llama-cpp provider renders the examples, a worker thread trains): training tokens per
// second, seconds per 1k training tokens, and the process's peak RSS (VmHWM, the worker's memory
// included). Also the matrix product the trainer's time goes to, naive against the register-
// blocked kernel, at a 0.5B model's shape (dim 896 × ffn 4864), one core.
//
// BENCH_EPOCHS (default 3) sets the run's length. Writes its section of docs/benchmarks.md.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseConfig } from '../src/config/load.js'
import { setLogLevel } from '../src/logger.js'
import { LlamaCppProvider } from '../src/providers/llama-cpp/provider.js'
import { plinthExamples } from '../src/providers/llama-cpp/training/fixtures.js'
import { matmulNT } from '../src/providers/llama-cpp/training/kernels.js'
import type { TrainingStep } from '../src/providers/training-backend.js'
import { writeBenchmarkSection } from './docs-section.js'

const root = path.resolve(import.meta.dirname, '..')
const MODEL_FILE = process.env.BENCH_MODEL ?? path.resolve(root, '../shared/models/stories260K.gguf')
const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 3)

function status(field: string): number {
  const line = fs.readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(field))
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) * 1024
}
const mib = (bytes: number) => (bytes / 1024 ** 2).toFixed(0)

function matmulBench() {
  const T = 64
  const K = 896
  const N = 4864
  const x = Float32Array.from({ length: T * K }, (_, i) => Math.sin(i))
  const w = Float32Array.from({ length: N * K }, (_, i) => Math.cos(i))
  const out = new Float32Array(T * N)
  const naive = () => {
    for (let t = 0; t < T; t++)
      for (let n = 0; n < N; n++) {
        let s = 0
        for (let k = 0; k < K; k++) s += x[t * K + k] * w[n * K + k]
        out[t * N + n] = s
      }
  }
  const blocked = () => matmulNT(out, x, w, T, K, N)
  const rate = (f: () => void) => {
    f() // warm up
    const times: number[] = []
    for (let i = 0; i < 5; i++) {
      const started = performance.now()
      f()
      times.push(performance.now() - started)
    }
    const median = times.sort((a, b) => a - b)[2]
    return (2 * T * K * N) / (median / 1000) / 1e9
  }
  return { naive: rate(naive), blocked: rate(blocked) }
}

async function main() {
  setLogLevel('error')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-bench-ft-'))
  fs.mkdirSync(path.join(dir, 'models'))
  fs.symlinkSync(MODEL_FILE, path.join(dir, 'models', 'stories.gguf'))
  const provider = new LlamaCppProvider(
    parseConfig({ dataDir: dir, llama: { modelsDir: path.join(dir, 'models'), defaults: { threads: 1, sequences: 1 } } }),
  )
  const load = os.loadavg()[0]
  const gflops = matmulBench()
  console.error(`matmul [64×896]·[4864×896]ᵀ: naive ${gflops.naive.toFixed(2)}, blocked ${gflops.blocked.toFixed(2)} GFLOP/s`)
  const rssBefore = status('VmRSS:')
  const steps: TrainingStep[] = []
  // the process's CPU time (all threads) at each step: on a shared machine, wall time measures
  // the other tenants too
  const cpu: number[] = []
  const started = performance.now()
  const result = await provider.train({
    model: 'stories',
    training: plinthExamples(),
    hyperparameters: { nEpochs: EPOCHS, batchSize: 4, learningRateMultiplier: 1 },
    seed: 1,
    outDir: path.join(dir, 'out'),
    signal: new AbortController().signal,
    onStep: (step) => {
      steps.push(step)
      const usage = process.cpuUsage()
      cpu.push((usage.user + usage.system) / 1e6)
      console.error(`step ${step.step}/${step.totalSteps} loss ${step.trainLoss.toFixed(4)} (${step.elapsedMs} ms)`)
    },
    onCheckpoint: () => undefined,
  })
  const wall = (performance.now() - started) / 1000
  const peak = status('VmHWM:')
  await provider.close()
  fs.rmSync(dir, { recursive: true, force: true })
  // elapsedMs counts from the worker's start: its boot and the model's read are in the first step
  const perStep = (steps[steps.length - 1].elapsedMs - steps[0].elapsedMs) / (steps.length - 1) / 1000
  const tokensPerStep = (result.trainedTokens - steps[0].trainedTokens) / (steps.length - 1)
  const tokensPerSecond = tokensPerStep / perStep
  const cpuPerStep = (cpu[cpu.length - 1] - cpu[0]) / (steps.length - 1)
  const tokensPerCpuSecond = tokensPerStep / cpuPerStep
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ')
  const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU'
  const text = `## Fine-tuning (\`npm run bench:finetune\`)

The local LoRA trainer (docs/fine-tuning.md) on \`stories260K.gguf\`, run as a job runs it: the
llama-cpp provider renders the 20 chat examples of the tests, a worker thread trains (r = 8 on q,
k, v, o, gate, up, down and output; batch 4; ${EPOCHS} epochs = ${result.steps} steps). Tokens
trained count every token of every example, as \`trained_tokens\` does. Steady state excludes the
first step (worker start and model read). Peak RSS is the whole process's (VmHWM): the server's
heap, node-llama-cpp with the base model loaded for rendering, and the worker.

Run ${when} UTC on ${os.cpus().length} cores (${cpuModel}), Node ${process.version}, load average
${load.toFixed(1)} at the start (the machine is shared: other work slows every number here).

| measure | value |
|---|---|
| tokens trained | ${result.trainedTokens} in ${result.steps} steps |
| steady state, wall clock | ${(perStep * 1000).toFixed(0)} ms per step, **${tokensPerSecond.toFixed(0)} tokens/s** |
| steady state, CPU time (one core busy) | ${(cpuPerStep * 1000).toFixed(0)} ms per step, **${tokensPerCpuSecond.toFixed(0)} tokens per CPU second** |
| time per 1k training tokens | **${(1000 / tokensPerSecond).toFixed(2)} s** wall, ${(1000 / tokensPerCpuSecond).toFixed(2)} s of CPU |
| whole call (render, worker start, training, adapters) | ${wall.toFixed(1)} s |
| RSS before training / peak | ${mib(rssBefore)} MiB / **${mib(peak)} MiB** |
| loss, first and last step | ${steps[0].trainLoss.toFixed(3)} → ${steps[steps.length - 1].trainLoss.toFixed(4)} |
| matmul [64×896]·[4864×896]ᵀ, naive loop | ${gflops.naive.toFixed(2)} GFLOP/s |
| matmul, 4×2 register-blocked kernel (the trainer's) | ${gflops.blocked.toFixed(2)} GFLOP/s |
`
  console.log(text)
  writeBenchmarkSection('## Fine-tuning', text)
}

await main()
