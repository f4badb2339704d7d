/**
 * A GBNF grammar under construction: named rules, deduplicated by body so that a sub-schema
 * used in many places (a `$ref`, the same string format twice) costs one rule.
 */
export class Rules {
  private readonly bodies = new Map<string, string>()
  private readonly names = new Map<string, string>()

  /** A rule named after `hint` with this body; an identical body already added is reused. */
  add(hint: string, body: string): string {
    const known = this.names.get(body)
    if (known) return known
    const name = this.fresh(hint)
    this.set(name, body)
    return name
  }

  /** A name reserved now and defined later (recursive `$ref`s). */
  reserve(hint: string): string {
    const name = this.fresh(hint)
    this.bodies.set(name, '')
    return name
  }

  has(name: string): boolean {
    return this.bodies.has(name)
  }

  /** A rule under a fixed name, defined once (shared helpers such as `ws`). */
  fixed(name: string, body: string): string {
    if (!this.bodies.has(name)) this.set(name, body)
    return name
  }

  set(name: string, body: string): void {
    this.bodies.set(name, body)
    if (!this.names.has(body)) this.names.set(body, name)
  }

  text(root: string): string {
    return [`root ::= ${root}`, ...[...this.bodies].map(([n, b]) => `${n} ::= ${b}`)].join('\n')
  }

  private fresh(hint: string): string {
    const base = hint.replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase() || 'r'
    let name = base
    for (let i = 2; this.bodies.has(name) || name === 'root'; i++) name = `${base}-${i}`
    return name
  }
}

/** A GBNF string literal of `text` (matched character for character). */
export function literal(text: string): string {
  let out = '"'
  for (const ch of text) out += ch === '"' || ch === '\\' ? `\\${ch}` : escapeControl(ch)
  return `${out}"`
}

/** One code point inside a GBNF character class. */
export function classChar(code: number): string {
  const ch = String.fromCodePoint(code)
  if (ch === ']' || ch === '\\' || ch === '^' || ch === '-' || ch === '[') return `\\${ch}`
  return escapeControl(ch)
}

function escapeControl(ch: string): string {
  const code = ch.codePointAt(0)!
  if (code < 0x20 || code === 0x7f || (code >= 0x2028 && code <= 0x2029))
    return `\\x${code.toString(16).padStart(2, '0')}`.replace(/^\\x(....)$/, '\\u$1')
  return ch
}

/** `item` repeated between min and max times (max undefined: no limit). */
export function repeat(item: string, min: number, max?: number): string {
  if (max === undefined) return min === 0 ? `${item}*` : min === 1 ? `${item}+` : `${item}{${min},}`
  if (min === max) return min === 0 ? '""' : min === 1 ? item : `${item}{${min}}`
  if (min === 0 && max === 1) return `${item}?`
  return `${item}{${min},${max}}`
}

export const alt = (options: string[]) =>
  options.length === 1 ? options[0] : `( ${options.join(' | ')} )`
