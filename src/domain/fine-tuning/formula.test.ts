import { describe, expect, it } from 'vitest'
import { checkVariables, evaluate, FormulaError, parseFormula } from './formula.js'

const run = (text: string, scores: Record<string, number> = {}) => evaluate(parseFormula(text), scores)

describe('multi grader formulas', () => {
  it('computes with the usual precedence', () => {
    expect(run('1 + 2 * 3')).toBe(7)
    expect(run('(1 + 2) * 3')).toBe(9)
    expect(run('2 ^ 3 ^ 2')).toBe(512)
    expect(run('-2 ^ 2')).toBe(-4)
    expect(run('10 / 4 - -1')).toBe(3.5)
    expect(run('.5 + 1e-1')).toBeCloseTo(0.6)
    expect(run('min(a, b, 0.7) + max(a, b) + abs(-1) + floor(1.7) + ceil(1.2) + sqrt(4) + log(exp(1))', { a: 0.2, b: 0.9 })).toBeCloseTo(0.2 + 0.9 + 1 + 1 + 2 + 2 + 1)
    expect(run('0.6 * exact + 0.4 * fuzzy_1', { exact: 1, fuzzy_1: 0.5 })).toBeCloseTo(0.8)
  })

  it('refuses what does not parse, and names no function or grader that is not there', () => {
    for (const bad of ['', '1 +', '(1', '1 2', 'a $ b', 'eval(a)', 'abs(1, 2)', 'min()'])
      expect(() => parseFormula(bad), bad).toThrow(FormulaError)
    const formula = parseFormula('a + b')
    expect(() => checkVariables(formula, ['a'])).toThrow("'b' is not the name of one of the graders (a)")
    expect(() => checkVariables(formula, ['a', 'b'])).not.toThrow()
  })

  it('refuses nesting that would overflow the stack (a 500), and takes ordinary nesting', () => {
    for (const deep of ['('.repeat(4999) + 'a' + ')'.repeat(4999), '-'.repeat(9999) + 'a', 'a^'.repeat(3000) + 'a'])
      expect(() => parseFormula(deep)).toThrow('the formula nests deeper than 200 levels')
    expect(evaluate(parseFormula('('.repeat(50) + '-a' + ')'.repeat(50)), { a: 2 })).toBe(-2)
  })
})
