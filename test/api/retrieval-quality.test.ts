import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../helpers/test-context.js'

// Retrieval quality on a corpus built here: 200 short documents about made-up towns, each with
// facts no other shares, and questions with known answers. test-embed's vectors carry no meaning,
// so this measures what the hybrid search gets from words, fused with the vectors' ranks.

let t: TestApp
let client: OpenAI
beforeAll(async () => {
  t = await createTestApp()
  client = t.client()
  t.ctx.jobs.start()
})
afterAll(async () => t.close())

const SYLLABLES = ['ka', 'lo', 'mi', 'ren', 'tu', 'vas', 'zel', 'dor', 'fen', 'gri', 'hal', 'jun', 'quo', 'sib', 'wex']
const EXPORTS = ['copper', 'wool', 'salt', 'timber', 'honey', 'glass', 'silk', 'amber', 'cheese', 'wine']
const REGIONS = ['north', 'south', 'east', 'west']
const RIVERS = ['Avon', 'Brisk', 'Calder', 'Dunmore', 'Elster', 'Fallow', 'Garron', 'Hessel']

type Town = { name: string; export: string; region: string; founded: number; river: string; mayor: string }

function towns(): Town[] {
  const out: Town[] = []
  for (let i = 0; i < 200; i++) {
    const a = SYLLABLES[i % 15]
    const b = SYLLABLES[Math.floor(i / 15) % 15]
    const c = SYLLABLES[(i * 7) % 15]
    const name = (a + b + c).replace(/^./, (ch) => ch.toUpperCase())
    const mayor = (c + a).replace(/^./, (ch) => ch.toUpperCase()) + ' ' + (b + 'son').replace(/^./, (ch) => ch.toUpperCase())
    out.push({
      name: `${name}${i}`,
      export: EXPORTS[i % EXPORTS.length],
      region: REGIONS[i % REGIONS.length],
      founded: 1300 + i * 3,
      river: RIVERS[i % RIVERS.length],
      mayor,
    })
  }
  return out
}

const corpus = towns()
const text = (town: Town) =>
  `${town.name} is a town in the ${town.region} region on the river ${town.river}. ` +
  `It was founded in ${town.founded} and its main export is ${town.export}. The mayor is ${town.mayor}.`

describe('retrieval quality', () => {
  let storeId: string
  const fileOf = new Map<string, string>()

  beforeAll(async () => {
    const store = await client.vectorStores.create({ name: 'towns' })
    storeId = store.id
    const files = []
    for (const town of corpus) {
      const f = await client.files.create({ file: await toFile(Buffer.from(text(town)), `${town.name}.txt`), purpose: 'assistants' })
      fileOf.set(f.id, town.name)
      files.push({ file_id: f.id, attributes: { region: town.region, founded: town.founded, export: town.export } })
    }
    const batch = await client.vectorStores.fileBatches.createAndPoll(storeId, { files }, { pollIntervalMs: 50 })
    expect(batch.file_counts).toMatchObject({ completed: 200, total: 200 })
  }, 120_000)

  async function top(query: string, filters?: OpenAI.VectorStores.VectorStoreSearchParams['filters'], n = 5) {
    const page = await client.vectorStores.search(storeId, { query, max_num_results: n, ...(filters ? { filters } : {}) })
    return page.data.map((r) => ({ town: fileOf.get(r.file_id)!, attributes: r.attributes, score: r.score }))
  }

  it('recall@5 of hybrid search is at least 0.9 on questions with known answers', async () => {
    const questions: [string, string][] = []
    for (const [i, town] of corpus.entries()) {
      // every other question names the town; the rest describe it by facts only it has
      if (i % 2 === 0) questions.push([`What is the main export of ${town.name}?`, town.name])
      else questions.push([`Which town was founded in ${town.founded}?`, town.name])
    }
    let hits = 0
    for (const [question, answer] of questions) {
      if ((await top(question)).some((r) => r.town === answer)) hits++
    }
    const recall = hits / questions.length
    console.log(`retrieval quality: recall@5 ${recall.toFixed(3)} over ${questions.length} questions`)
    expect(recall).toBeGreaterThanOrEqual(0.9)
  }, 120_000)

  it('filters exclude what they should, and keep what matches', async () => {
    const north = await top('town river export', { type: 'eq', key: 'region', value: 'north' }, 50)
    expect(north.length).toBe(50)
    expect(north.every((r) => r.attributes?.region === 'north')).toBe(true)
    // a match found without the filter is left out when the filter excludes it
    const named = corpus[1]
    expect((await top(`main export of ${named.name}`)).map((r) => r.town)).toContain(named.name)
    const excluded = await top(`main export of ${named.name}`, { type: 'ne', key: 'region', value: named.region }, 50)
    expect(excluded.map((r) => r.town)).not.toContain(named.name)
    expect(excluded.every((r) => r.attributes?.region !== named.region)).toBe(true)
    const old = await top('founded', { type: 'and', filters: [{ type: 'lt', key: 'founded', value: 1330 }, { type: 'in', key: 'export', value: ['copper', 'wool'] }] }, 50)
    const expected = corpus.filter((c) => c.founded < 1330 && ['copper', 'wool'].includes(c.export)).map((c) => c.name)
    expect(old.map((r) => r.town).sort()).toEqual(expected.sort())
  }, 60_000)
})
