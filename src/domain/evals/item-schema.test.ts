import { describe, expect, it } from 'vitest'
import { checkItems, compileItemSchema } from './item-schema.js'

const signal = new AbortController().signal
const check = (schema: unknown, items: Record<string, unknown>[]) =>
  checkItems(compileItemSchema(schema), items.map((item) => ({ item })), signal)

describe("items against the eval's item_schema", () => {
  const schema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name'] }

  it('accepts matching items and names the first that does not match, by index and violation', async () => {
    await expect(check(schema, [{ name: 'a', age: 3 }, { name: 'b' }])).resolves.toBeUndefined()
    await expect(check(schema, [{ name: 'a' }, { name: 'b', age: 'old' }])).rejects.toMatchObject({
      status: 400,
      code: 'invalid_item',
      message: "Item 1 does not match the eval's item_schema: /age must be integer.",
    })
    await expect(check(schema, [{ age: 1 }])).rejects.toThrow(
      "Item 0 does not match the eval's item_schema: the item must have required property 'name'.",
    )
    const closed = { ...schema, additionalProperties: false }
    await expect(check(closed, [{ name: 'a', extra: 1 }])).rejects.toThrow(
      "Item 0 does not match the eval's item_schema: the item must NOT have additional properties 'extra'.",
    )
  })

  it('reads unknown keywords and formats as annotations, and the draft $schema names', async () => {
    const annotated = { type: 'object', 'x-ui': 'wide', properties: { day: { type: 'string', format: 'date', description: 'd' } } }
    await expect(check(annotated, [{ day: 'not a date' }])).resolves.toBeUndefined()
    // draft-07's tuple items; 2020-12's prefixItems
    const tuple07 = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { p: { type: 'array', items: [{ type: 'number' }] } } }
    await expect(check(tuple07, [{ p: [1, 'x'] }])).resolves.toBeUndefined()
    await expect(check(tuple07, [{ p: ['x'] }])).rejects.toThrow('/p/0 must be number')
    const tuple2020 = { type: 'object', properties: { p: { type: 'array', prefixItems: [{ type: 'number' }] } } }
    await expect(check(tuple2020, [{ p: ['x'] }])).rejects.toThrow('/p/0 must be number')
    await expect(check({ $schema: 'http://json-schema.org/draft-04/schema#', type: 'object' }, [{}])).resolves.toBeUndefined()
  })

  it('refuses a schema that is not JSON Schema, saying why', () => {
    expect(() => compileItemSchema({ type: 'nope' })).toThrow(/^The eval's item_schema is not a valid JSON Schema: .*type/)
    expect(() => compileItemSchema({ $ref: 'https://example.com/remote.json' })).toThrow(/item_schema is not a valid JSON Schema: .*resolve reference/)
  })

  it('keeps the event loop turning while it checks many items', async () => {
    // 200,000 items of 64 tags: 13 million strings checked, far more than one turn's work
    const tags = Array.from({ length: 64 }, (_, i) => `tag${i}`)
    const items = Array.from({ length: 200_000 }, (_, i) => ({ item: { name: `n${i}`, age: i, tags } }))
    const tagged = { ...schema, properties: { ...schema.properties, tags: { type: 'array', items: { type: 'string', minLength: 1 } } } }
    const validate = compileItemSchema(tagged)
    // a gap is the loop held (or, on a busy machine, this process
    // not scheduled: the best of three measures the code, not the neighbours)
    const gaps: number[] = []
    for (let attempt = 0; attempt < 3 && !(gaps.length && Math.min(...gaps) < 50); attempt++) {
      await new Promise((r) => setTimeout(r, 20))
      let last = performance.now()
      let longest = 0
      const timer = setInterval(() => {
        const now = performance.now()
        longest = Math.max(longest, now - last)
        last = now
      }, 1)
      try {
        await checkItems(validate, items, signal)
        // a check that never yielded is seen by the timer's next tick only
        await new Promise((r) => setTimeout(r, 5))
      } finally {
        clearInterval(timer)
      }
      gaps.push(longest)
    }
    expect(Math.min(...gaps)).toBeLessThan(50)
  })

  it('stops when the run is stopped', async () => {
    const stop = new AbortController()
    stop.abort()
    const items = Array.from({ length: 100_000 }, () => ({ item: { name: 'x' } }))
    const validate = compileItemSchema({ type: 'object' })
    // the first slice may run; the abort is seen at the first pause
    let seen = 0
    const counting = Object.assign((v: unknown) => (seen++, validate(v)), { errors: null }) as unknown as typeof validate
    await expect(checkItems(counting, items, stop.signal)).rejects.toThrow()
    expect(seen).toBeLessThan(items.length)
  })
})
