import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { SummedCounter, SummedHistogram } from './metrics-summed.js'

const BUCKETS = [0.005, 0.1, 1, 10]
const observations: [number, string, string, string][] = [
  [0.001, '/v1/chat/completions', 'POST', '200'],
  [0.1, '/v1/chat/completions', 'POST', '200'],
  [0.5, '/v1/chat/completions', 'POST', '429'],
  [42, '/v1/models', 'GET', '200'],
  [0.005, '/v1/chat/completions', 'POST', '200'],
]

/** The same series counted by prom-client and by the summed metrics, in two registries. */
function both() {
  const theirs = new Registry()
  const ours = new Registry()
  const h = new Histogram({ name: 'd_seconds', help: 'd', labelNames: ['route', 'method', 'status'], buckets: BUCKETS, registers: [theirs] })
  const c = new Counter({ name: 'r_total', help: 'r', labelNames: ['route', 'model'], registers: [theirs] })
  const sh = new SummedHistogram('d_seconds', 'd', ['route', 'method', 'status'], BUCKETS, ours)
  const sc = new SummedCounter('r_total', 'r', ['route', 'model'], ours)
  for (const [v, route, method, status] of observations) {
    h.observe({ route, method, status }, v)
    sh.observe(v, route, method, status)
    c.inc({ route, model: status === '200' ? 'm' : '' }, 2)
    sc.inc(2, route, status === '200' ? 'm' : '')
  }
  return { theirs, ours, sc, sh }
}

describe('summed metrics', () => {
  it('scrape as the same text as prom-client counting each call', async () => {
    const { theirs, ours } = both()
    expect(await ours.metrics()).toBe(await theirs.metrics())
  })

  it('aggregate across workers as prom-client does', async () => {
    const a = both()
    const b = both()
    const theirs = AggregatorRegistry.aggregate([await a.theirs.getMetricsAsJSON(), await b.theirs.getMetricsAsJSON()])
    const ours = AggregatorRegistry.aggregate([await a.ours.getMetricsAsJSON(), await b.ours.getMetricsAsJSON()])
    expect(await ours.metrics()).toBe(await theirs.metrics())
    expect(await ours.metrics()).toContain('r_total{route="/v1/chat/completions",model="m"} 12')
  })

  it('start again from zero on reset', async () => {
    const { ours, sc } = both()
    ours.resetMetrics()
    sc.inc(1, '/x', '')
    expect(await ours.metrics()).toContain('r_total{route="/x",model=""} 1')
    expect(await ours.metrics()).not.toContain('/v1/models')
  })
})
