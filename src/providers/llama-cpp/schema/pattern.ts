import { alt, classChar, literal, Rules } from './gbnf.js'

/** A character set: inclusive code point ranges, or everything but them. */
type CharSet = { ranges: [number, number][]; negated: boolean }
type Node =
  | { kind: 'char'; set: CharSet }
  | { kind: 'seq'; items: Node[] }
  | { kind: 'alt'; options: Node[] }
  | { kind: 'repeat'; item: Node; min: number; max?: number }
  | { kind: 'start' }
  | { kind: 'end' }

export class PatternError extends Error {}

/** A JSON string's character written as itself (not `"`, `\` or a control character). */
export const JSON_CHAR = '[^"\\\\\\x00-\\x1f]'
const EXCLUDED: [number, number][] = [
  [0x00, 0x1f],
  [0x22, 0x22],
  [0x5c, 0x5c],
]

const DIGIT: [number, number][] = [[0x30, 0x39]]
const WORD: [number, number][] = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
]
const SPACE: [number, number][] = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
]
const LINE_ENDS: [number, number][] = [
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
]

/**
 * A string `pattern` (an ECMAScript regex, unanchored unless it says `^`/`$`) as the GBNF of the
 * JSON string's content: literals, escapes, classes, `.`, groups, `|` and every quantifier.
 * Characters JSON must escape are written escaped when the pattern names them; a class or `.`
 * that merely includes them generates only the others (a narrower, still matching, language).
 * Backreferences, lookarounds, word boundaries and anchors inside the pattern are refused.
 */
export function patternGrammar(rules: Rules, pattern: string): string {
  const tree = new Parser(pattern).parse()
  const options = tree.kind === 'alt' ? tree.options : [tree]
  const anyText = rules.add('pattern-any', `${JSON_CHAR}*`)
  const body = options.map((option) => {
    const items = option.kind === 'seq' ? [...option.items] : [option]
    const anchoredStart = items[0]?.kind === 'start'
    if (anchoredStart) items.shift()
    const anchoredEnd = items[items.length - 1]?.kind === 'end'
    if (anchoredEnd) items.pop()
    const parts = items.map((item) => render(item))
    return [anchoredStart ? '' : anyText, ...parts, anchoredEnd ? '' : anyText]
      .filter(Boolean)
      .join(' ') || '""'
  })
  return rules.add('pattern', alt(body))
}

function render(node: Node): string {
  switch (node.kind) {
    case 'char':
      return renderSet(node.set)
    case 'seq':
      return node.items.length ? `( ${node.items.map(render).join(' ')} )` : '""'
    case 'alt':
      return alt(node.options.map(render))
    case 'repeat': {
      const item = render(node.item)
      const { min, max } = node
      const grouped = /^[([]/.test(item) || /^"[^"]*"$/.test(item) ? item : `( ${item} )`
      if (max === undefined)
        return min === 0 ? `${grouped}*` : min === 1 ? `${grouped}+` : `${grouped}{${min},}`
      if (max === 0) return '""'
      if (min === 0 && max === 1) return `${grouped}?`
      return min === max ? `${grouped}{${min}}` : `${grouped}{${min},${max}}`
    }
    case 'start':
    case 'end':
      throw new PatternError('an anchor (^ or $) is only supported at the start or end')
  }
}

function renderSet(set: CharSet): string {
  if (set.negated) {
    const ranges = [...set.ranges, ...EXCLUDED]
    return `[^${ranges.map(rangeText).join('')}]`
  }
  // what JSON escapes is written escaped; the rest as a class
  const escaped: string[] = []
  const plain: [number, number][] = []
  for (const [a, b] of set.ranges) {
    let from = a
    for (let c = a; c <= b && c <= 0x5c; c++) {
      if (c < 0x20 || c === 0x22 || c === 0x5c) {
        if (from < c) plain.push([from, c - 1])
        escaped.push(literal(JSON.stringify(String.fromCharCode(c)).slice(1, -1)))
        from = c + 1
      }
    }
    if (from <= b) plain.push([from, b])
  }
  const options = [...(plain.length ? [`[${plain.map(rangeText).join('')}]`] : []), ...escaped]
  if (!options.length) throw new PatternError('a class matches no character')
  if (options.length === 1 && plain.length === 1 && plain[0][0] === plain[0][1])
    return literal(String.fromCodePoint(plain[0][0]))
  return alt(options)
}

function rangeText([a, b]: [number, number]): string {
  return a === b ? classChar(a) : `${classChar(a)}-${classChar(b)}`
}

class Parser {
  private pos = 0
  private readonly chars: string[]

  constructor(pattern: string) {
    this.chars = [...pattern]
  }

  parse(): Node {
    const node = this.alternation()
    if (this.pos < this.chars.length) throw new PatternError(`unexpected '${this.peek()}'`)
    return node
  }

  private peek(): string | undefined {
    return this.chars[this.pos]
  }

  private next(): string {
    const ch = this.chars[this.pos++]
    if (ch === undefined) throw new PatternError('the pattern ends too early')
    return ch
  }

  private alternation(): Node {
    const options = [this.sequence()]
    while (this.peek() === '|') {
      this.pos++
      options.push(this.sequence())
    }
    return options.length === 1 ? options[0] : { kind: 'alt', options }
  }

  private sequence(): Node {
    const items: Node[] = []
    while (this.pos < this.chars.length && this.peek() !== '|' && this.peek() !== ')') {
      const atom = this.atom()
      items.push(this.quantified(atom))
    }
    return items.length === 1 ? items[0] : { kind: 'seq', items }
  }

  private quantified(atom: Node): Node {
    let node = atom
    for (;;) {
      const ch = this.peek()
      let min: number
      let max: number | undefined
      if (ch === '*') [min, max] = [0, undefined]
      else if (ch === '+') [min, max] = [1, undefined]
      else if (ch === '?') [min, max] = [0, 1]
      else if (ch === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.chars.slice(this.pos).join(''))
        if (!m) throw new PatternError("a '{' that is not a quantifier")
        min = Number(m[1])
        max = m[2] === undefined ? min : m[3] === '' ? undefined : Number(m[3])
        if (max !== undefined && max < min) throw new PatternError('a quantifier {n,m} with m < n')
        if (min > 1000 || (max ?? 0) > 1000) throw new PatternError('a quantifier above 1000')
        this.pos += [...m[0]].length - 1
      } else return node
      this.pos++
      if (this.peek() === '?') this.pos++ // lazy: the same language
      if (node.kind === 'start' || node.kind === 'end')
        throw new PatternError('a quantified anchor')
      // llama.cpp refuses a grammar that could loop without consuming anything
      if (max === undefined && nullable(node))
        throw new PatternError('an unbounded repetition of what can match nothing')
      node = { kind: 'repeat', item: node, min, max }
    }
  }

  private atom(): Node {
    const ch = this.next()
    switch (ch) {
      case '^':
        return { kind: 'start' }
      case '$':
        return { kind: 'end' }
      case '.':
        return { kind: 'char', set: { ranges: LINE_ENDS, negated: true } }
      case '(': {
        if (this.peek() === '?') {
          const rest = this.chars.slice(this.pos, this.pos + 3).join('')
          if (rest.startsWith('?:')) this.pos += 2
          else if (/^\?<[a-zA-Z]/.test(rest)) {
            while (this.next() !== '>');
          } else throw new PatternError('lookarounds are not supported')
        }
        const inner = this.alternation()
        if (this.next() !== ')') throw new PatternError("a '(' without its ')'")
        return inner
      }
      case '[':
        return { kind: 'char', set: this.charClass() }
      case '\\':
        return this.escape(false)
      case '*':
      case '+':
      case '?':
      case '{':
      case ')':
      case ']':
      case '}':
        if (ch === ']' || ch === '}') return single(ch.codePointAt(0)!)
        throw new PatternError(`a '${ch}' with nothing to repeat`)
      default:
        return single(ch.codePointAt(0)!)
    }
  }

  private charClass(): CharSet {
    const negated = this.peek() === '^'
    if (negated) this.pos++
    const ranges: [number, number][] = []
    while (this.peek() !== ']') {
      if (this.peek() === undefined) throw new PatternError("a '[' without its ']'")
      const start = this.classAtom()
      if (this.peek() === '-' && this.chars[this.pos + 1] !== ']' && this.chars[this.pos + 1]) {
        this.pos++
        const end = this.classAtom()
        if (start.length !== 1 || end.length !== 1 || start[0][0] !== start[0][1] || end[0][0] !== end[0][1])
          throw new PatternError('a range between classes')
        if (end[0][0] < start[0][0]) throw new PatternError('a range out of order')
        ranges.push([start[0][0], end[0][0]])
      } else ranges.push(...start)
    }
    this.pos++
    if (negated && !ranges.length) throw new PatternError('[^] is not supported')
    return { ranges, negated }
  }

  /** One member of a class: a character, or a class escape such as \d. */
  private classAtom(): [number, number][] {
    const ch = this.next()
    if (ch !== '\\') return [[ch.codePointAt(0)!, ch.codePointAt(0)!]]
    if (this.peek() === 'b') {
      this.pos++
      return [[8, 8]]
    }
    const node = this.escape(true)
    if (node.kind !== 'char' || node.set.negated)
      throw new PatternError('a negated class escape (\\D, \\W, \\S) inside a class')
    return node.set.ranges
  }

  private escape(inClass: boolean): Node {
    const ch = this.next()
    const set = (ranges: [number, number][], negated = false): Node => ({
      kind: 'char',
      set: { ranges, negated },
    })
    switch (ch) {
      case 'd':
        return set(DIGIT)
      case 'D':
        return set(DIGIT, true)
      case 'w':
        return set(WORD)
      case 'W':
        return set(WORD, true)
      case 's':
        return set(SPACE)
      case 'S':
        return set(SPACE, true)
      case 't':
        return single(9)
      case 'n':
        return single(10)
      case 'v':
        return single(11)
      case 'f':
        return single(12)
      case 'r':
        return single(13)
      case '0':
        if (/\d/.test(this.peek() ?? '')) throw new PatternError('octal escapes are not supported')
        return single(0)
      case 'x': {
        const hex = this.chars.slice(this.pos, this.pos + 2).join('')
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new PatternError('a malformed \\x escape')
        this.pos += 2
        return single(parseInt(hex, 16))
      }
      case 'u': {
        const rest = this.chars.slice(this.pos).join('')
        const m = /^(?:([0-9a-fA-F]{4})|\{([0-9a-fA-F]{1,6})\})/.exec(rest)
        if (!m) throw new PatternError('a malformed \\u escape')
        this.pos += m[0].length
        const code = parseInt(m[1] ?? m[2], 16)
        if (code >= 0xd800 && code <= 0xdfff) throw new PatternError('surrogate escapes are not supported')
        return single(code)
      }
      default:
        if (/[a-zA-Z1-9]/.test(ch))
          throw new PatternError(
            inClass ? `the escape \\${ch} is not supported` : `the escape \\${ch} (a backreference, boundary or property) is not supported`,
          )
        return single(ch.codePointAt(0)!)
    }
  }
}

function nullable(node: Node): boolean {
  switch (node.kind) {
    case 'char':
      return false
    case 'seq':
      return node.items.every(nullable)
    case 'alt':
      return node.options.some(nullable)
    case 'repeat':
      return node.min === 0 || nullable(node.item)
    default:
      return true
  }
}

function single(code: number): Node {
  return { kind: 'char', set: { ranges: [[code, code]], negated: false } }
}
