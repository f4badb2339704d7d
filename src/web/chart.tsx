/** One stacked series of a bar chart. */
export type Series = { label: string; color: string; values: number[] }

const WIDTH = 640
const HEIGHT = 180
const PAD = { left: 56, right: 8, top: 10, bottom: 28 }

function compact(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`
  return Number.isInteger(n) ? String(n) : n.toFixed(2)
}

/**
 * A stacked bar chart drawn on the server as SVG: no script, no bundle, readable in any browser
 * and in tests. Each bar has a <title>, so hovering shows the exact numbers.
 */
export function BarChart(props: { title: string; labels: string[]; series: Series[]; unit?: string }) {
  const { labels, series } = props
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0))
  const max = Math.max(1, ...totals)
  const plotW = WIDTH - PAD.left - PAD.right
  const plotH = HEIGHT - PAD.top - PAD.bottom
  const slot = plotW / Math.max(1, labels.length)
  const barW = Math.max(2, slot * 0.7)
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH
  const ticks = [0, 0.5, 1].map((f) => max * f)
  const every = Math.ceil(labels.length / 8)
  return (
    <figure class="chart">
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
