// The code of a code_interpreter call, from the arguments of the function the model called.

/**
 * The code to run: the `code` argument. Arguments that are not a JSON object holding it are
 * taken as the code itself (a JSON string, or bare code, as some models write it).
 */
export function codeOf(args: string): string {
  try {
    const value: unknown = JSON.parse(args)
    if (typeof value === 'string') return value
    if (value && typeof value === 'object' && typeof (value as { code?: unknown }).code === 'string') {
      return (value as { code: string }).code
    }
  } catch {
    // bare code
  }
  return args
}

const ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
}

/**
 * The `code` argument decoded as far as the arguments streamed so far go, so the step's input
 * grows as the model writes it. An escape cut in half waits for its end. Arguments that do not
 * start as a JSON object stream as they are (bare code).
 */
export function partialCode(args: string): string {
  if (!args.trimStart().startsWith('{')) return args.trim() ? args : ''
  const start = /"code"\s*:\s*"/.exec(args)
  if (!start) return ''
  let out = ''
  let i = start.index + start[0].length
  while (i < args.length) {
    const c = args[i]!
    if (c === '"') break
    if (c !== '\\') {
      out += c
      i++
      continue
    }
    const escape = args[i + 1]
    if (escape === undefined) break
    if (escape !== 'u') {
      out += ESCAPES[escape] ?? escape
      i += 2
      continue
    }
    if (i + 6 > args.length) break
    const unit = parseInt(args.slice(i + 2, i + 6), 16)
    const high = unit >= 0xd800 && unit <= 0xdbff
    if (high && i + 12 > args.length) break
    out += high
      ? String.fromCharCode(unit, parseInt(args.slice(i + 8, i + 12), 16))
      : String.fromCharCode(unit)
    i += high ? 12 : 6
  }
  return out
}
