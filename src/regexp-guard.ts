import v8 from 'node:v8'

/**
 * Patterns from users run in this process: a JSON schema's `pattern` (structured outputs checked
 * against a schema, an eval's item_schema through Ajv), and a backtracking regular expression can
 * take minutes on a short string (`^(a+)+$` against 30 a's and a `!`: 80 s), holding the event
 * loop for every other request. V8 can switch a regexp that backtracks past a limit (50,000
 * steps) to its linear-time engine mid-match, with the same result; an ordinary match never
 * reaches the limit and costs nothing more. The flag is read when a regexp runs, so it covers
 * every regexp of the process, whenever compiled. The linear engine of Node 20's V8 runs no
 * regexp with the `u` or `i` flag, nor backreferences or lookarounds: those still backtrack, and
 * userPattern below keeps user patterns off the `u` flag wherever that changes nothing.
 */
v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks')

/** Syntax whose meaning needs the `u` flag: code point escapes and property classes. */
const UNICODE_SYNTAX = /\\u\{|\\[pP]\{/
/** A surrogate: a string or pattern with one is where `u` and no `u` match differently. */
const SURROGATE = /[\uD800-\uDFFF]/

/**
 * A JSON Schema `pattern` (ECMA-262 with the `u` flag, as JSON Schema and Ajv read it) as a
 * tester that the backtracking limit protects: for a value without surrogates, a pattern valid
 * with `u` and free of `\u{...}` and `\p{...}` matches the same without it (the flag changes only
 * how surrogate pairs, code point escapes and property classes are read), so it runs without.
 * Throws the SyntaxError of a pattern invalid with `u`.
 */
export function userPattern(pattern: string, flags = 'u'): { test(value: string): boolean } {
  const strict = new RegExp(pattern, flags)
  if (flags !== 'u' || UNICODE_SYNTAX.test(pattern) || SURROGATE.test(pattern)) return strict
  const guarded = new RegExp(pattern)
  return { test: (value: string) => (SURROGATE.test(value) ? strict : guarded).test(value) }
}
