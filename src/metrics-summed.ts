import type { Registry } from 'prom-client'

/**
 * Counters and histograms for the per-request metrics, counted in plain numbers and turned into
 * prom-client's series only when /metrics is scraped. prom-client's `inc` and `observe` build a
 * label hash string and check every label on each call (and `labels()` children do too), which
 * was 2-3 µs and about 1.3 KB of garbage a proxied request; here a call walks one Map per label
 * value and adds to numbers. What a scrape (or `getMetricsAsJSON`, which the cluster aggregation
 * reads) returns has prom-client's own shape, so the text and the workers' sums are unchanged.
 *
 * Label values are passed in the order of `labelNames`, as positional strings: no object per call.
 */
/** The i-th label value (an array of them would be an allocation per call). */
function nth(i: number, a: string, b?: string, c?: string, d?: string, e?: string): string {
  return (i === 0 ? a : i === 1 ? b : i === 2 ? c : i === 3 ? d : e) ?? ''
}

abstract class SummedMetric<E extends { labels: Record<string, string> }> {
  readonly aggregator = 'sum'
  private root = new Map<string, unknown>()
  protected entries: E[] = []

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never)
  }

  protected abstract fresh(labels: Record<string, string>): E

  /** The entry of one label set: nested maps, one level a label, created on first sight. */
  protected entry(a: string, b?: string, c?: string, d?: string, e?: string): E {
    const depth = this.labelNames.length
    let level = this.root
    for (let i = 0; i < depth - 1; i++) {
      const key = nth(i, a, b, c, d, e)
      let next = level.get(key) as Map<string, unknown> | undefined
      if (next === undefined) level.set(key, (next = new Map()))
      level = next
    }
    const last = nth(depth - 1, a, b, c, d, e)
    let found = level.get(last) as E | undefined
    if (found === undefined) {
      const labels: Record<string, string> = {}
      for (let i = 0; i < depth; i++) labels[this.labelNames[i]] = nth(i, a, b, c, d, e)
      found = this.fresh(labels)
      level.set(last, found)
      this.entries.push(found)
    }
    return found
  }

  reset() {
    this.root = new Map()
    this.entries = []
  }
}

type CounterEntry = { labels: Record<string, string>; value: number }

export class SummedCounter extends SummedMetric<CounterEntry> {
  readonly type = 'counter'

  protected fresh(labels: Record<string, string>): CounterEntry {
    return { labels, value: 0 }
  }

  inc(by: number, a: string, b?: string, c?: string, d?: string, e?: string) {
    this.entry(a, b, c, d, e).value += by
  }

  async get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.entries.map((x) => ({ value: x.value, labels: { ...x.labels } })) }
  }
}

type HistogramEntry = { labels: Record<string, string>; counts: Float64Array; sum: number; count: number }

export class SummedHistogram extends SummedMetric<HistogramEntry> {
  readonly type = 'histogram'

  constructor(name: string, help: string, labelNames: readonly string[], private readonly buckets: readonly number[], registry: Registry) {
    super(name, help, labelNames, registry)
  }

  protected fresh(labels: Record<string, string>): HistogramEntry {
    return { labels, counts: new Float64Array(this.buckets.length), sum: 0, count: 0 }
  }

  observe(value: number, a: string, b?: string, c?: string, d?: string, e?: string) {
    const entry = this.entry(a, b, c, d, e)
    entry.sum += value
    entry.count++
    const buckets = this.buckets
    for (let i = 0; i < buckets.length; i++) {
      if (value <= buckets[i]) {
        entry.counts[i]++
        break
      }
    }
  }

  /** prom-client's histogram shape: cumulative `le` buckets, then +Inf, _sum and _count, per label set. */
  async get() {
    const values: { value: number; metricName: string; labels: Record<string, string | number>; exemplar?: null }[] = []
    const bucket = `${this.name}_bucket`
    for (const x of this.entries) {
      let cumulative = 0
      for (let i = 0; i < this.buckets.length; i++) {
        cumulative += x.counts[i]
        values.push({ value: cumulative, metricName: bucket, exemplar: null, labels: { le: this.buckets[i], ...x.labels } })
      }
      values.push({ value: x.count, metricName: bucket, exemplar: null, labels: { le: '+Inf', ...x.labels } })
      values.push({ value: x.sum, metricName: `${this.name}_sum`, labels: { ...x.labels } })
      values.push({ value: x.count, metricName: `${this.name}_count`, labels: { ...x.labels } })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }
}
