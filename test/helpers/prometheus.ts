/**
 * Reads Prometheus' text exposition format (version 0.0.4) into samples: `name{labels} value`
 * lines, with escaped label values; HELP and TYPE lines are checked for shape and kept as types.
 * Written here because the npm parser tried lost labels on histogram series.
 */
export type Sample = { name: string; labels: Record<string, string>; value: number }
export type Exposition = { samples: Sample[]; types: Map<string, string> }

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy

export function parsePrometheus(text: string): Exposition {
  const samples: Sample[] = []
  const types = new Map<string, string>()
  for (const line of text.split('\n')) {
    if (line === '') continue
    if (line.startsWith('#')) {
      const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line)
      if (type) types.set(type[1], type[2])
      else if (!/^# HELP \S+ /.test(line)) throw new Error(`not a Prometheus comment line: ${line}`)
      continue
    }
    const match = SAMPLE.exec(line)
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`)
    const labels: Record<string, string> = {}
    const body = match[2] ?? ''
    LABEL.lastIndex = 0
    while (LABEL.lastIndex < body.length) {
      const label = LABEL.exec(body)
      if (!label) throw new Error(`bad labels in: ${line}`)
      labels[label[1]] = label[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\')
    }
    // Go's ParseFloat, which Prometheus uses, takes NaN and Inf in any case (prom-client writes 'Nan')
    const text = match[3].toLowerCase()
    const value = text === 'nan' ? NaN : /^[+-]?inf$/.test(text) ? (text.startsWith('-') ? -Infinity : Infinity) : Number(match[3])
    if (Number.isNaN(value) && text !== 'nan') throw new Error(`bad value in: ${line}`)
    samples.push({ name: match[1], labels, value })
  }
  return { samples, types }
}

/** The sum of the samples named `name` whose labels include `labels`. */
export function sampleValue(exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  return exposition.samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0)
}
