// npx tsx bench/cpu-probe.ts [json|stream|both]: CPU per proxied request, Plinth against the
// baseline (bench/cpu-ratio.ts), every round printed. ROUNDS, REQUESTS, CONNECTIONS, WARMUP tune it.
import fs from 'node:fs'
import { cpuRatio } from './cpu-ratio.js'
import { BENCH_KEY, chatBody, startGateway } from './gateway-setup.js'

const { baseline, plinth, dataDir, stop } = await startGateway()
const which = process.argv[2] ?? 'both'
const options = {
  rounds: Number(process.env.ROUNDS ?? 5),
  requests: Number(process.env.REQUESTS ?? 20_000),
  connections: Number(process.env.CONNECTIONS ?? 50),
  warmup: Number(process.env.WARMUP ?? 5_000),
}
try {
  for (const mode of ['json', 'stream'] as const) {
    if (which !== 'both' && which !== mode) continue
    const result = await cpuRatio({ baseline, plinth }, BENCH_KEY, chatBody('bench-model', mode === 'stream'), mode, options)
    for (const r of result.rounds) console.log(mode.padEnd(6), 'baseline', r.baseline.toFixed(1), 'µs  plinth', r.plinth.toFixed(1), 'µs ', r.ratio.toFixed(2) + 'x')
    console.log(`${mode} median: baseline ${result.median.baseline.toFixed(1)} µs, plinth ${result.median.plinth.toFixed(1)} µs, ratio ${result.median.ratio.toFixed(2)}x`)
  }
} finally {
  stop()
  fs.rmSync(dataDir, { recursive: true, force: true })
}
