// Which calls were in flight when the server's event loop stalled: for each operation, the share
// of the stalls it overlapped next to the share of the run it was in flight. An operation far
// more often in flight during stalls than otherwise is where to look.

/** A stall of the server's own `ms`, in the `gap` between two ticks ending `at`; `gc`: the collector's part. */
export type Stall = { at: number; ms: number; gap: number; gc: number }
export type Span = { op: string; start: number; end: number }
export type Suspect = { op: string; stalls: number; stallShare: number; timeShare: number; lift: number }

/** The time covered by `spans` (overlaps counted once), within [from, to]. */
function covered(spans: Span[], from: number, to: number): number {
  const sorted = spans.map((s) => [Math.max(from, s.start), Math.min(to, s.end)]).filter(([a, b]) => b > a).sort((a, b) => a[0] - b[0])
  let total = 0
  let [start, end] = [0, 0]
  for (const [a, b] of sorted) {
    if (a > end) {
      total += end - start
      ;[start, end] = [a, b]
    } else end = Math.max(end, b)
  }
  return total + end - start
}

export function suspects(stalls: Stall[], spans: Span[], from: number, to: number): Suspect[] {
  if (!stalls.length) return []
  const byOp = new Map<string, Span[]>()
  for (const span of spans) {
    const list = byOp.get(span.op)
    if (list) list.push(span)
    else byOp.set(span.op, [span])
  }
  const rows: Suspect[] = []
  for (const [op, list] of byOp) {
    // a stall is reported when it ends: the call was in flight if it overlaps the stalled time
    const hit = stalls.filter((st) => list.some((s) => s.start <= st.at && s.end >= st.at - st.ms)).length
    const timeShare = covered(list, from, to) / (to - from)
    const stallShare = hit / stalls.length
    rows.push({ op, stalls: hit, stallShare, timeShare, lift: timeShare > 0 ? stallShare / timeShare : 0 })
  }
  // an operation seen in one or two stalls out of hundreds says nothing
  return rows.filter((r) => r.stalls >= Math.max(2, stalls.length * 0.02)).sort((a, b) => b.lift - a.lift)
}
