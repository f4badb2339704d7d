import { SummedCounter, SummedHistogram } from './metrics-summed.js'
import { collectDefaultMetrics, Counter, Gauge, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client'

/**
 * Plinth's Prometheus metrics (GET /metrics, docs/operations.md). One registry per process; a
 * leaf module, so that any layer counts what it sees without a handle passed down to it. Labels
 * are bounded sets: route templates, status codes, model and project ids (as many as are
 * configured), never raw paths or user input.
 */
export const registry = new Registry()

// process CPU and memory, GC, handles, and event-loop lag (p50/p90/p99 and max, sampled every 10 ms)
collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 })

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

// the per-request metrics, summed in plain numbers until a scrape (metrics-summed.ts)
export const httpRequests = new SummedCounter(
  'plinth_http_requests_total',
  'HTTP requests answered, by route template, method, status, model and project.',
  ['route', 'method', 'status', 'model', 'project'],
  registry,
)

export const httpDuration = new SummedHistogram(
  'plinth_http_request_duration_seconds',
  'Time from the request to the end of its response, by route template, method and status.',
  ['route', 'method', 'status'],
  LATENCY_BUCKETS,
  registry,
)

export const timeToFirstToken = new SummedHistogram(
  'plinth_time_to_first_token_seconds',
  'Time from a streamed request to its first generated token, by model.',
  ['model'],
  LATENCY_BUCKETS,
  registry,
)

export const tokens = new SummedCounter(
  'plinth_tokens_total',
  'Tokens billed, by model, project and direction (input or output); jobs included.',
  ['model', 'project', 'direction'],
  registry,
)

export const upstreamErrors = new Counter({
  name: 'plinth_upstream_errors_total',
  help: 'Failed calls to OpenAI-compatible upstreams, by upstream id and status (0: no answer).',
  labelNames: ['upstream', 'status'] as const,
  registers: [registry],
})

export const rateLimitRejections = new Counter({
  name: 'plinth_rate_limit_rejections_total',
  help: 'Requests refused with 429 by the project rate limits, by model and limit (rpm, tpm, ...).',
  labelNames: ['model', 'limit'] as const,
  registers: [registry],
})

export const rateLimiterFallbacks = new Counter({
  name: 'plinth_rate_limiter_fallback_total',
  help: 'Requests whose rate limits were counted in this process because Redis did not answer (rateLimits.onRedisDown: local).',
  registers: [registry],
})

/** Gauges read from state the workers share (the database), not from this process. */
const SHARED_GAUGES = new Set<string>()

type Setter = (labels: Record<string, string>, value: number) => void
type Source = (set: Setter) => Promise<void> | void

/**
 * Gauges read at scrape time from sources that register themselves (the job tables, database
 * pools): a process may hold several contexts (tests do), each one a source of the same gauge.
 */
function scrapeGauge(name: string, help: string, labelNames: string[], combine: 'sum' | 'max' = 'sum', shared = false) {
  const sources = new Set<Source>()
  if (shared) SHARED_GAUGES.add(name)
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    // every worker reads the same database: the workers' values are one value, not a sum
    ...(shared ? { aggregator: 'max' as const } : {}),
    async collect() {
      this.reset()
      const values = new Map<string, { labels: Record<string, string>; value: number }>()
      const set: Setter = (labels, value) => {
        const key = JSON.stringify(labels)
        const seen = values.get(key)
        const merged = seen === undefined ? value : combine === 'sum' ? seen.value + value : Math.max(seen.value, value)
        values.set(key, { labels, value: merged })
      }
      // a source that fails (a database going away) leaves its values out, not the scrape
      await Promise.allSettled([...sources].map((source) => source(set)))
      for (const { labels, value } of values.values()) this.set(labels, value)
    },
  })
  return (source: Source) => {
    sources.add(source)
    return () => void sources.delete(source)
  }
}

export const jobsGauge = scrapeGauge('plinth_jobs', 'Jobs by kind and status (queued, running, cancelling).', ['kind', 'status'], 'sum', true)
export const jobAgeGauge = scrapeGauge(
  'plinth_job_oldest_age_seconds',
  'Age of the oldest job by kind and status: a queue that stops moving shows here.',
  ['kind', 'status'],
  'max',
  true,
)
export const dbPoolGauge = scrapeGauge('plinth_db_pool_connections', 'PostgreSQL pool connections by state (total, idle, waiting).', ['state'])
export const sqliteFileGauge = scrapeGauge('plinth_sqlite_file_bytes', 'Size of the SQLite database and its WAL file.', ['file'], 'sum', true)

let scrapeSource: (() => Promise<string>) | undefined

/**
 * What GET /metrics answers: this process's registry, or, in a worker of `plinth serve --workers
 * N`, every worker's metrics aggregated by the primary (cluster-metrics.ts).
 */
export function scrapeMetrics(): Promise<string> {
  return scrapeSource ? scrapeSource() : registry.metrics()
}

export function setScrapeSource(source: (() => Promise<string>) | undefined) {
  scrapeSource = source
}

export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[]

/**
 * This worker's metrics for the primary to aggregate. Counters and histograms are summed over the
 * workers (exact totals). A gauge of the process (event-loop lag, memory, handles, its database
 * pool) gets a `worker` label, so each worker's stays its own series: a sum or an average of
 * lag percentiles would mean nothing. Gauges read from the shared database are taken once (max).
 */
export async function workerSnapshot(worker: number): Promise<MetricsSnapshot> {
  const metrics = (await registry.getMetricsAsJSON()) as MetricsSnapshot
  return metrics.map((metric) =>
    String(metric.type) !== 'gauge' || SHARED_GAUGES.has(metric.name)
      ? metric
      : {
          ...metric,
          // one series per worker: summing series that differ in their worker label keeps each
          aggregator: 'sum',
          values: metric.values.map((value) => ({ ...value, labels: { ...value.labels, worker: String(worker) } })),
        },
  )
}
