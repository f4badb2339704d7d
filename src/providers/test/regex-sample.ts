/**
 * One string a simple regular expression matches: literals, escapes (\d \w \s and escaped
 * characters), classes, groups with alternatives (the first), and quantifiers (their least count,
 * at least one for `+`). Undefined for what it does not read (lookarounds, backreferences).
 */
export function sampleRegex(pattern: string): string | undefined {
  const reader = { text: pattern, at: 0 }
  try {
    const out = alternatives(reader)
    return reader.at === pattern.length ? out : undefined
  } catch {
    return undefined
  }
}

type Reader = { text: string; at: number }

function alternatives(r: Reader): string {
  const first = sequence(r)
  // the first alternative is the sample; the others are read past
  while (r.text[r.at] === '|') {
    r.at++
    sequence(r)
  }
  return first
}

function sequence(r: Reader): string {
  let out = ''
  while (r.at < r.text.length && r.text[r.at] !== '|' && r.text[r.at] !== ')') {
    const c = r.text[r.at]
    if (c === '^' || c === '$') {
      r.at++
      continue
    }
    const atom = readAtom(r)
    out += atom.repeat(quantifier(r))
  }
  return out
}

function readAtom(r: Reader): string {
  const c = r.text[r.at++]
  if (c === '(') {
    if (r.text[r.at] === '?') {
      if (r.text[r.at + 1] !== ':') throw new Error('lookaround')
      r.at += 2
    }
    const inner = alternatives(r)
    if (r.text[r.at++] !== ')') throw new Error('unclosed group')
    return inner
  }
  if (c === '[') return readClass(r)
  if (c === '\\') return escaped(r.text[r.at++], false)
  if (c === '.') return 'a'
  if ('*+?{'.includes(c)) throw new Error('dangling quantifier')
  return c
}

function readClass(r: Reader): string {
  const negated = r.text[r.at] === '^'
  if (negated) r.at++
  const members: string[] = []
  while (r.at < r.text.length && r.text[r.at] !== ']') {
    let c = r.text[r.at++]
    if (c === '\\') c = escaped(r.text[r.at++], true)
    if (r.text[r.at] === '-' && r.text[r.at + 1] !== ']' && r.at + 1 < r.text.length) {
      r.at++
      let end = r.text[r.at++]
      if (end === '\\') end = escaped(r.text[r.at++], true)
      for (let code = c.codePointAt(0)!, last = Math.min(end.codePointAt(0)!, code + 200); code <= last; code++) members.push(String.fromCodePoint(code))
    } else members.push(c)
  }
  if (r.text[r.at++] !== ']') throw new Error('unclosed class')
  if (!negated) {
    if (!members.length) throw new Error('empty class')
    return members[0]
  }
  const pick = [...'aA0_x-'].find((c) => !members.includes(c))
  if (pick === undefined) throw new Error('no member')
  return pick
}

function escaped(c: string | undefined, inClass: boolean): string {
  if (c === undefined) throw new Error('trailing backslash')
  if (c === 'd') return '0'
  if (c === 'w') return 'a'
  if (c === 's') return ' '
  if (c === 'D' || c === 'W' || c === 'S') return c === 'S' ? 'a' : '-'
  if (c === 'n') return '\n'
  if (c === 't') return '\t'
  if (/[bBkpPuxc0-9]/.test(c) && !(inClass && c === 'b')) throw new Error('unsupported escape')
  return c
}

/** The least count of the quantifier at the reader (1 without one). */
function quantifier(r: Reader): number {
  const c = r.text[r.at]
  let count = 1
  if (c === '*' || c === '?') {
    r.at++
    count = 0
  } else if (c === '+') {
    r.at++
  } else if (c === '{') {
    const match = /^\{(\d+)(,\d*)?\}/.exec(r.text.slice(r.at))
    if (!match) throw new Error('bad quantifier')
    r.at += match[0].length
    count = Number(match[1])
    if (count > 1000) throw new Error('too long')
  } else return 1
  if (r.text[r.at] === '?') r.at++
  return count
}
