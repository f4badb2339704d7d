// A Plinth server process that watches its own event loop (event-loop-monitor.ts) and reports
// over IPC: { type: 'take' } answers with the stalls seen since the last take. Started by
// test/api/event-loop-guard.test.ts, so the test's own client work is not on the server's thread.
import { serve } from '../../src/main.js'
import { EventLoopMonitor } from './event-loop-monitor.js'

const monitor = new EventLoopMonitor(Number(process.env.GUARD_THRESHOLD_MS ?? 50))
const server = await serve({ port: 0, host: '127.0.0.1', dataDir: process.env.GUARD_DATA_DIR }, { handleSignals: false })
monitor.start()
let taken = 0
process.on('message', (message: { type: string }) => {
  if (message.type === 'take') {
    const stalls = monitor.stalls.slice(taken)
    taken = monitor.stalls.length
    process.send!({ type: 'stalls', stalls, maxDelayMs: monitor.maxDelayMs() })
  } else if (message.type === 'exit') {
    monitor.stop()
    void server.close().then(() => process.exit(0))
  }
})
process.send!({ type: 'ready', url: server.url })
