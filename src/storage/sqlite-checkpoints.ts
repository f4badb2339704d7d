import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type SQLite from 'better-sqlite3'
import { dbLog } from '../logger.js'

const require = createRequire(import.meta.url)

/** How often the worker moves the WAL's pages into the database file. */
const CHECKPOINT_EVERY_MS = 1000

// The worker's own connection to the same file. A PASSIVE checkpoint never waits for the
// server's readers or writer, and the server's writes never wait for it (WAL: one writer and a
// checkpointer at once).
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.path, { fileMustExist: true })
db.pragma('wal_autocheckpoint = 0')
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)') } catch (error) { parentPort.postMessage(String(error)) }
}, workerData.everyMs)
parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close() })
`

/**
 * SQLite's automatic checkpoint runs inside the commit that crosses 1000 WAL pages, on the
 * thread that commits: 12-16 ms of the event loop every 4 MB written (measured: p99 of a 450 KB
 * commit 12.4 ms with it, 1.0 ms without), and far more for a large WAL. Here the server's
 * connection never checkpoints, and a worker thread with its own connection does it every second.
 * If the worker cannot start, the connection checkpoints itself again, as SQLite does by default.
 * Returns the stop function (storage.close()).
 */
export function checkpointInWorker(database: SQLite.Database, file: string): () => Promise<void> {
  database.pragma('wal_autocheckpoint = 0')
  let worker: Worker
  try {
    worker = new Worker(WORKER, {
      eval: true,
      workerData: { driver: require.resolve('better-sqlite3'), path: file, everyMs: CHECKPOINT_EVERY_MS },
    })
  } catch (error) {
    dbLog.warn({ err: error }, 'SQLite checkpoints stay on the main thread: the worker did not start')
    database.pragma('wal_autocheckpoint = 1000')
    return async () => {}
  }
  worker.unref()
  let stopped = false
  worker.on('message', (message) => dbLog.warn({ error: message }, 'SQLite checkpoint failed'))
  worker.on('error', (error) => {
    dbLog.warn({ err: error }, 'SQLite checkpoint worker failed: checkpoints move to the main thread')
    if (database.open) database.pragma('wal_autocheckpoint = 1000')
  })
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
  return async () => {
    if (stopped) return
    stopped = true
    // held by the loop until it is gone: an unref'd worker and nothing else left would let a CLI
    // process end in the middle of close()
    worker.ref()
    worker.postMessage('stop')
    let timer: NodeJS.Timeout | undefined
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 2000)))])
    clearTimeout(timer)
    await worker.terminate()
  }
}
