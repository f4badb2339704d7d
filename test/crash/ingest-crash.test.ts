import fs from 'node:fs'
import path from 'node:path'
import { toFile } from 'openai'
import { afterAll, describe, expect, it } from 'vitest'
import { crashDbCases, type CrashDb } from '../helpers/crash-db.js'
import { poll, serverProcesses } from '../helpers/server-process.js'

// Crash safety of vector store ingestion: a real server is killed by SIGKILL while a large file's
// chunks are being indexed. After a restart the file completes with every chunk exactly once, and
// its usage_bytes count each chunk once.

const KEY = 'sk-proj-ingest-crash-000000000000000000000'
const servers = serverProcesses(KEY)
afterAll(() => servers.cleanup())

describe.each(crashDbCases())('SIGKILL in the middle of an ingestion ($name)', ({ name, open }) => {
  let db: CrashDb | undefined
  afterAll(async () => db?.close())

  it('after a restart the file completes, each chunk indexed once', async () => {
    const dir = servers.dataDir('plinth-ingest-crash-')
    const dataDir = path.join(dir, 'data')
    db = await open(dataDir)
    const configFile = path.join(dir, 'config.json')
    // small batches: hundreds of transactions, so the kill lands with some written and most not
    fs.writeFileSync(configFile, JSON.stringify({ vectorStores: { embedBatchSize: 2 }, jobs: { leaseSeconds: 2 } }))
    const env = { PLINTH_CONFIG: configFile, ...db.env }
    let server = await servers.start(dataDir, env)
    const words = Array.from({ length: 60_000 }, (_, i) => `word${i % 997}`).join(' ')
    const file = await server.client.files.create({ file: await toFile(Buffer.from(words), 'big.txt'), purpose: 'assistants' })
    const store = await server.client.vectorStores.create({
      file_ids: [file.id],
      chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 0 } },
    })
    const chunks = async () => Number((await db!.rows('select count(*) as n from vector_store_chunks'))[0].n)
    await poll(chunks, (n) => n >= 40, 'some chunks to be indexed', 30_000).catch((error) => {
      throw new Error(`${error.message}\n${server.output()}`)
    })
    await servers.kill(server)
    const before = await chunks()
    const [attachment] = await db.rows('select status, chunk_count from vector_store_files')
    expect(attachment.status).toBe('in_progress')
    expect(before).toBeLessThan(Number(attachment.chunk_count))

    server = await servers.start(dataDir, env)
    const done = await poll(
      () => server.client.vectorStores.retrieve(store.id),
      (s) => s.status !== 'in_progress',
      'the store to complete after the restart',
      60_000,
    )
    expect(done.file_counts).toMatchObject({ completed: 1, total: 1 })
    const [total] = await db.rows(
      'select count(*) as n, count(distinct chunk_index) as distinct_n, min(chunk_index) as lo, max(chunk_index) as hi from vector_store_chunks',
    )
    const [row] = await db.rows('select chunk_count, usage_bytes from vector_store_files')
    expect(total).toEqual({ n: row.chunk_count, distinct_n: row.chunk_count, lo: 0, hi: Number(row.chunk_count) - 1 })
    const bytes = name === 'sqlite' ? 'length(cast(text as blob))' : 'octet_length(text)'
    const [indexed] = await db.rows(`select sum(${bytes} + dims * 4) as b from vector_store_chunks`)
    expect(Number(row.usage_bytes)).toBe(Number(indexed.b))
    expect(done.usage_bytes).toBe(Number(indexed.b))
    const found = await server.client.vectorStores.search(store.id, { query: 'word5 word17' })
    expect(found.data.length).toBeGreaterThan(0)
  }, 120_000)
})
