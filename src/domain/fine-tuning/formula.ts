/**
 * A multi grader's `calculate_output`: arithmetic on the sub-graders' scores by name. OpenAI's
 * guide lists + - * / ^, parentheses, numbers, and min, max, abs, floor, ceil, exp, sqrt, log.
 * Parsed to a tree once (validate checks it), evaluated on the scores; nothing is `eval`ed.
 */

type Node =
  | { kind: 'number'; value: number }
  | { kind: 'variable'; name: string }
  | { kind: 'unary'; operand: Node }
  | { kind: 'binary'; op: '+' | '-' | '*' | '/' | '^'; left: Node; right: Node }
  | { kind: 'call'; fn: string; args: Node[] }

const FUNCTIONS: Record<string, { arity: [number, number]; apply: (...a: number[]) => number }> = {
  min: { arity: [1, Infinity], apply: Math.min },
  max: { arity: [1, Infinity], apply: Math.max },
  abs: { arity: [1, 1], apply: Math.abs },
  floor: { arity: [1, 1], apply: Math.floor },
  ceil: { arity: [1, 1], apply: Math.ceil },
  exp: { arity: [1, 1], apply: Math.exp },
  sqrt: { arity: [1, 1], apply: Math.sqrt },
  log: { arity: [1, 1], apply: Math.log },
}

export class FormulaError extends Error {
  constructor(
    message: string,
    /** a name the formula uses that is no grader's (else: the formula does not parse) */
    readonly variable?: string,
  ) {
    super(message)
  }
}

export type Formula = { tree: Node; variables: Set<string> }

const MAX_LENGTH = 10_000
/** Nesting (parentheses, calls, signs, powers): deeper would overflow the parser's stack, a 500. */
const MAX_DEPTH = 200

export function parseFormula(text: string): Formula {
  if (text.length > MAX_LENGTH) throw new FormulaError(`the formula is longer than ${MAX_LENGTH} characters`)
  const tokens = text.match(/\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+|[A-Za-z_][A-Za-z0-9_.]*|\*\*|[-+*/^(),]|\S/g) ?? []
  const variables = new Set<string>()
  let i = 0
  const peek = () => tokens[i]
  const expect = (token: string) => {
    if (tokens[i] !== token) throw new FormulaError(`expected '${token}' ${tokens[i] === undefined ? 'at the end' : `before '${tokens[i]}'`}`)
    i++
  }
  // precedence climbing: + - < * / < unary - < ^ (right-associative)
  const sum = (): Node => {
    let left = product()
    while (peek() === '+' || peek() === '-') left = { kind: 'binary', op: tokens[i++] as '+' | '-', left, right: product() }
    return left
  }
  const product = (): Node => {
    let left = unary()
    while (peek() === '*' || peek() === '/') left = { kind: 'binary', op: tokens[i++] as '*' | '/', left, right: unary() }
    return left
  }
  // every nested part of a formula goes through unary: its depth is the formula's nesting
  let depth = 0
  const unary = (): Node => {
    if (++depth > MAX_DEPTH) throw new FormulaError(`the formula nests deeper than ${MAX_DEPTH} levels`)
    try {
      if (peek() === '-') {
        i++
        return { kind: 'unary', operand: unary() }
      }
      if (peek() === '+') {
        i++
        return unary()
      }
      return power()
    } finally {
      depth--
    }
  }
  const power = (): Node => {
    const base = atom()
    if (peek() === '^' || peek() === '**') {
      i++
      return { kind: 'binary', op: '^', left: base, right: unary() }
    }
    return base
  }
  const atom = (): Node => {
    const token = tokens[i++]
    if (token === undefined) throw new FormulaError('the formula ends too soon')
    if (token === '(') {
      const inner = sum()
      expect(')')
      return inner
    }
    if (/^[\d.]/.test(token)) {
      const value = Number(token)
      if (!Number.isFinite(value)) throw new FormulaError(`'${token}' is not a number`)
      return { kind: 'number', value }
    }
    if (/^[A-Za-z_]/.test(token)) {
      if (peek() === '(') {
        const fn = FUNCTIONS[token]
        if (!fn) throw new FormulaError(`'${token}' is not a function of formulas (min, max, abs, floor, ceil, exp, sqrt, log)`)
        i++
        const args = [sum()]
        while (peek() === ',') {
          i++
          args.push(sum())
        }
        expect(')')
        if (args.length < fn.arity[0] || args.length > fn.arity[1]) throw new FormulaError(`'${token}' takes ${fn.arity[0] === fn.arity[1] ? fn.arity[0] : `at least ${fn.arity[0]}`} argument(s)`)
        return { kind: 'call', fn: token, args }
      }
      variables.add(token)
      return { kind: 'variable', name: token }
    }
    throw new FormulaError(`unexpected '${token}'`)
  }
  if (!tokens.length) throw new FormulaError('the formula is empty')
  const tree = sum()
  if (i < tokens.length) throw new FormulaError(`unexpected '${tokens[i]}'`)
  return { tree, variables }
}

/** Checks that every name the formula uses is one of `names`. */
export function checkVariables(formula: Formula, names: string[]) {
  for (const name of formula.variables) if (!names.includes(name)) throw new FormulaError(`'${name}' is not the name of one of the graders (${names.join(', ')})`, name)
}

export function evaluate(formula: Formula, scores: Record<string, number>): number {
  const run = (node: Node): number => {
    switch (node.kind) {
      case 'number':
        return node.value
      case 'variable':
        return scores[node.name]
      case 'unary':
        return -run(node.operand)
      case 'call':
        return FUNCTIONS[node.fn].apply(...node.args.map(run))
      case 'binary': {
        const [a, b] = [run(node.left), run(node.right)]
        if (node.op === '+') return a + b
        if (node.op === '-') return a - b
        if (node.op === '*') return a * b
        if (node.op === '/') return a / b
        return a ** b
      }
    }
  }
  return run(formula.tree)
}
