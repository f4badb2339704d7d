// A preload for finding what a server's requests keep alive: V8's sampling heap profiler, started
// and stopped by SIGUSR2, written to $HEAP_SAMPLE_DIR (default /tmp) as heap-sample-<n>.json.
// Objects a scavenge collects are left out (HEAP_SAMPLE_MINOR=1 keeps them), so what remains per
// allocation site is what outlived a young-generation collection: what the scavenger copies and
// promotes, the garbage that costs (docs/benchmarks.md, "CPU per proxied request").
//   BENCH_PLINTH_NODE_ARGS='--import ./bench/heap-sample.mjs' ... then kill -USR2 <pid> twice; bench/heap-probe.ts does it all.
// Sum `selfSize` per call frame of the profile's tree (or load it in Chrome's DevTools, Memory).
import fs from 'node:fs'
import inspector from 'node:inspector'
import path from 'node:path'

const session = new inspector.Session()
session.connect()
let sampling = false
let written = 0
process.on('SIGUSR2', () => {
  if (!sampling) {
    sampling = true
    session.post('HeapProfiler.startSampling', {
      samplingInterval: 1024,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: process.env.HEAP_SAMPLE_MINOR === '1',
    })
    return
  }
  sampling = false
  session.post('HeapProfiler.stopSampling', (error, result) => {
    if (error) return process.stderr.write(`heap-sample: ${error.message}\n`)
    const file = path.join(process.env.HEAP_SAMPLE_DIR ?? '/tmp', `heap-sample-${written++}.json`)
    fs.writeFileSync(file, JSON.stringify(result.profile))
    process.stderr.write(`heap-sample: wrote ${file}\n`)
  })
})
