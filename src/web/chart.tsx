/** One stacked series of a bar chart. */
export type Series = { label: string; color: string; values: number[] }

const WIDTH = 640
const HEIGHT = 180
const PAD = { left: 56, right: 8, top: 10, bottom: 28 }

/** An axis label: 1.5k, 2M, 12, 0.004 (no trailing zeros, never more digits than it needs). */
export function compact(n: number): string {
  const trim = (v: number, unit: string) => `${Number(v.toPrecision(3))}${unit}`
  if (n >= 1e9) return trim(n / 1e9, 'B')
  if (n >= 1e6) return trim(n / 1e6, 'M')
  if (n >= 1e3) return trim(n / 1e3, 'k')
  return String(Number(n.toPrecision(3)))
}

/**
 * The axis' ticks: 0 to a round top, in round steps (1, 2 or 5 × 10^k). Counts (requests,
 * tokens) get whole steps only, so no axis shows half a request.
 */
export function axisTicks(max: number, whole: boolean, target = 4): number[] {
  if (!(max > 0)) return [0, 1]
  const raw = max / target
  const power = 10 ** Math.floor(Math.log10(raw))
  let step = ([1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power)
  if (whole) step = Math.max(1, Math.ceil(step))
  const top = Math.ceil(max / step - 1e-9) * step
  const ticks: number[] = []
  for (let i = 0; i * step <= top + step / 1e6; i++) ticks.push(Number((i * step).toPrecision(12)))
  return ticks
}

/**
 * A stacked bar chart drawn on the server as SVG: no script, no bundle, readable in any browser
 * and in tests. Each bar has a <title>, so hovering shows the exact numbers.
 */
export function BarChart(props: { title: string; labels: string[]; series: Series[]; unit?: string; id?: string }) {
  const { labels, series } = props
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0))
  const whole = series.every((s) => s.values.every((v) => Number.isInteger(v)))
  const ticks = axisTicks(Math.max(0, ...totals), whole)
  const max = ticks[ticks.length - 1]
  const plotW = WIDTH - PAD.left - PAD.right
  const plotH = HEIGHT - PAD.top - PAD.bottom
  const slot = plotW / Math.max(1, labels.length)
  const barW = Math.max(2, slot * 0.7)
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH
  const every = Math.ceil(labels.length / 8)
  return (
    <figure class="chart" id={props.id}>
      <figcaption>
        {props.title}
        <span class="legend">
          {series.map((s) => (
            <span>
              <i style={`background:${s.color}`}></i>
              {s.label}
            </span>
          ))}
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={props.title}>
        {ticks.map((t) => (
          <g>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(t)} y2={y(t)} class="grid" />
            <text x={PAD.left - 6} y={y(t) + 4} class="axis" text-anchor="end">
              {compact(t)}
            </text>
          </g>
        ))}
        {labels.map((label, i) => {
          let base = 0
          const x = PAD.left + i * slot + (slot - barW) / 2
          return (
            <g>
              {series.map((s) => {
                const v = s.values[i] ?? 0
                const top = y(base + v)
                const h = y(base) - top
                base += v
                return v > 0 ? (
                  <rect x={x} y={top} width={barW} height={h} fill={s.color}>
                    <title>{`${label} · ${s.label}: ${v.toLocaleString('en-US')}${props.unit ? ' ' + props.unit : ''}`}</title>
                  </rect>
                ) : null
              })}
              {i % every === 0 ? (
                <text x={x + barW / 2} y={HEIGHT - 10} class="axis" text-anchor="middle">
                  {label}
                </text>
              ) : null}
            </g>
          )
        })}
      </svg>
    </figure>
  )
}
