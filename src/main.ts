import type { Server } from 'node:http'
import { createStartingServer, serveApp } from './app.js'
import { reportReady, serveCluster, wakeJobsWorker, workerCount, workerRole, type WorkerRole } from './cluster.js'
import { loadConfig, type ConfigOverrides } from './config/load.js'
import { createContext } from './context.js'
import { accessLog, bootLog, setLogFormat, setLogLevel } from './logger.js'
import { getEngine } from './providers/llama-cpp/engine.js'
import { IpcLimiter } from './storage/limits/ipc.js'
import type { RelayChannel } from './storage/change-feed.js'
import { workerMetrics } from './cluster-metrics.js'
import { setScrapeSource } from './metrics.js'
import { warmTokenizer } from './providers/tokenizer.js'
import { startTracing, stopTracing } from './tracing/tracing.js'

export type RunningServer = { url: string; close(): Promise<void> }

/**
 * loadConfig → createContext → serve → graceful shutdown on SIGINT/SIGTERM. With
 * `server.workers` above 1 this process becomes the primary of N workers (cluster.ts), each of
 * which runs this function again as a worker.
 */
export async function serve(overrides: ConfigOverrides = {}, options: { handleSignals?: boolean } = {}): Promise<RunningServer> {
  const config = loadConfig(process.env, overrides)
  setLogLevel(config.log.level)
  setLogFormat(config.log.format)
  if (!config.log.access) accessLog.level = 'silent'
  const role = workerRole()
  const count = workerCount(config.server.workers)
  if (!role && count > 1) {
    const primary = await serveCluster(config, count, printFirstStart)
    if (options.handleSignals) {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void primary.close())
    }
    return primary
  }
  // before the storage and the providers are created: their span hooks are set up with them.
  // Each worker traces its own requests; the primary serves none.
  await startTracing(process.env, { worker: role?.index })
  // a worker's scrape answers for every worker: the primary aggregates them (cluster-metrics.ts)
  if (role) setScrapeSource(workerMetrics(process as unknown as Parameters<typeof workerMetrics>[0], role.index).scrape)
  const server = createStartingServer()
  // a worker listens once it can serve: the primary hands connections to listening workers only,
  // so one that restarts takes none before it is ready
  if (!role) await listen(server, config.server.port, config.server.host)
  let ctx: Awaited<ReturnType<typeof createContext>>
  try {
    ctx = await createContext(config, workerContextOptions(role))
  } catch (error) {
    server.close()
    throw error
  }
  // o200k takes 170-250 ms to load, in one synchronous step: paid here, before the first request,
  // not by whichever request first counts tokens (a stall of every request in flight). It costs
  // about 70 MB of memory, which the idle RSS in docs/benchmarks.md includes.
  warmTokenizer()
  // the same for llama.cpp's module and native runtime (about 210 ms of the loop), when local
  // models are served; a failure here is the first request's to report, as before
  if (ctx.providers.hasLocalModels()) await getEngine(config.llama.gpu).catch(() => undefined)
  serveApp(server, ctx)
  if (role) {
    try {
      await listen(server, config.server.port, config.server.host)
    } catch (error) {
      await ctx.close()
      throw error
    }
  }
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : config.server.port
  const url = `http://${config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host}:${port}`
  if (ctx.bootstrap.created) printFirstStart(url, ctx.bootstrap.created)
  if (role) {
    bootLog.info({ url, worker: role.index, jobs: role.jobs }, `worker ${role.index} ready`)
    if (role.jobs) process.on('message', (message: { plinthJobs?: string }) => message?.plinthJobs === 'wake' && ctx.jobs.wake())
    reportReady(url)
  } else bootLog.info({ url, database: ctx.storage.dialect, models: ctx.providers.list().length }, `Plinth ready on ${url}/v1`)
  ctx.jobs.start()

  let closing: Promise<void> | undefined
  const close = () =>
    (closing ??= (async () => {
      bootLog.info('shutting down: no new connections, draining requests')
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        // idle keep-alive sockets would hold close() open; streams in flight get 10 s to finish
        server.closeIdleConnections()
        setTimeout(() => server.closeAllConnections(), 10_000).unref()
      })
      await ctx.close()
      // the spans of the last requests, exported before the process ends
      await stopTracing()
      bootLog.info('stopped')
      // the IPC channel to the primary would keep a worker's process alive
      if (role) process.exit(0)
    })())
  if (options.handleSignals) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void close())
  }
  return { url, close }
}

/**
 * A worker runs the job runner and the leader only if it is the jobs worker (on SQLite a single
 * runner avoids contention for the write lock; on PostgreSQL the leader lock would already keep the
 * sweeps singleton), asks the primary for rate limits when Redis is not configured, and on SQLite
 * sends and hears the change feed through the primary.
 */
function workerContextOptions(role: WorkerRole | undefined): Parameters<typeof createContext>[1] {
  if (!role) return {}
  return {
    jobs: role.jobs ? {} : { elsewhere: { wake: wakeJobsWorker } },
    limiter: role.sharedLimiter ? new IpcLimiter(process as unknown as ConstructorParameters<typeof IpcLimiter>[0]) : undefined,
    // on SQLite the workers hear each other's changes through the primary (cluster.ts relays)
    changeRelay: process as unknown as RelayChannel,
  }
}

/** A port that cannot be had is a sentence for the user (PortError), not a stack trace. */
export class PortError extends Error {
  override name = 'PortError'
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = `${host}:${port}`
      if (error.code === 'EADDRINUSE') {
        reject(new PortError(`port ${where} is already in use. Stop what holds it, or start Plinth on another port: plinth serve --port N (or PLINTH_PORT=N).`))
      } else if (error.code === 'EACCES') {
        reject(new PortError(`no permission to listen on ${where}. Ports below 1024 need privileges; use --port N (or PLINTH_PORT=N) with N >= 1024.`))
      } else if (error.code === 'EADDRNOTAVAIL') {
        reject(new PortError(`cannot listen on ${where}: this machine has no such address. Set --host (or PLINTH_HOST).`))
      } else reject(error)
    })
    server.listen(port, host, () => {
      server.removeAllListeners('error')
      resolve()
    })
  })
}

function printFirstStart(url: string, created: { project: { id: string }; adminKey: string; projectKey: string }) {
  // printed once, on the first start only: the keys are stored hashed and cannot be shown again
  const lines = [
    '',
    '  Plinth is set up. Save these keys now: they are shown only this once.',
    '',
    `    project key (for /v1 APIs):      ${created.projectKey}`,
    `    admin key (for /v1/organization): ${created.adminKey}`,
    `    default project:                 ${created.project.id}`,
    '',
    `  Point any OpenAI SDK at it:  new OpenAI({ baseURL: '${url}/v1', apiKey: '<project key>' })`,
    '  More keys: npx plinth keys create --project default',
    '',
  ]
  process.stdout.write(lines.join('\n') + '\n')
}
