import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'
import { createApp, createServer } from '../../src/app.js'
import { parseConfig } from '../../src/config/load.js'
import type { ConfigInput } from '../../src/config/schema.js'
import { createContext, type AppContext } from '../../src/context.js'
import type { StorageConfig } from '../../src/storage/dialect.js'
import { openStorage } from '../../src/storage/storage.js'
import { validatingFetch } from './validating-fetch.js'

export const ADMIN_KEY = 'sk-admin-test-0000000000000000000000'
export const PROJECT_KEY = 'sk-proj-test-00000000000000000000000'
export const SCRIPT_FILE = path.resolve(import.meta.dirname, 'fixtures/scripted.json')

export type TestApp = {
  ctx: AppContext
  app: ReturnType<typeof createApp>
  /**
   * fetch into the app. Every response to a spec operation is validated against the official
   * OpenAPI spec; setup.ts fails the test on a violation. URLs on http://plinth.test go to the
   * server: by default a real one on a loopback port, running the listener production runs
   * (the inference fast path, then Hono); with `transport: 'in-process'`, Hono's app.request.
   */
  fetch: typeof fetch
  /** The server's base URL (http://plinth.test when in-process). */
  url: string
  client(key?: string, options?: Partial<ConstructorParameters<typeof OpenAI>[0]>): OpenAI
  close(): Promise<void>
}

export type Transport = 'http' | 'in-process'

/**
 * A fresh Plinth on its own SQLite file, or on `options.storage` (a PostgreSQL schema of
 * `storageCases()`, which the caller drops after `close()`).
 */
export async function createTestApp(
  overrides: Partial<ConfigInput> = {},
  options: { transport?: Transport; storage?: StorageConfig } = {},
): Promise<TestApp> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-test-'))
  const config = parseConfig({
    dataDir,
    bootstrap: { adminKey: ADMIN_KEY, projectKey: PROJECT_KEY },
    testModels: { enabled: true, scriptFile: SCRIPT_FILE },
    ...overrides,
  })
  const ctx = await createContext(config, options.storage ? { storage: await openStorage(options.storage) } : {})
  const app = createApp(ctx)
  const transport = options.transport ?? (process.env.PLINTH_TEST_TRANSPORT as Transport | undefined) ?? 'http'
  let server: http.Server | undefined
  let url = TEST_ORIGIN
  let inner = ((input: RequestInfo | URL, init?: RequestInit) => app.request(input as any, init as any)) as typeof fetch
  if (transport === 'http') {
    server = createServer(ctx, app)
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    inner = ((input: RequestInfo | URL, init?: RequestInit) => fetch(onServer(input, url), init)) as typeof fetch
  }
  const fetchIn = validatingFetch(inner)
  return {
    ctx,
    app,
    fetch: fetchIn,
    url,
    client(key = PROJECT_KEY, options = {}) {
      return new OpenAI({
        apiKey: key,
        baseURL: `${url}/v1`,
        fetch: fetchIn,
        maxRetries: 0,
        ...options,
      })
    },
    async close() {
      if (server) {
        server.closeAllConnections()
        await new Promise((resolve) => server!.close(resolve))
      }
      await ctx.close()
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

const TEST_ORIGIN = 'http://plinth.test'

/** Requests written for http://plinth.test, sent to the real server instead. */
function onServer(input: RequestInfo | URL, url: string): RequestInfo | URL {
  if (typeof input === 'string') {
    if (input.startsWith('/')) return url + input
    return input.startsWith(TEST_ORIGIN) ? url + input.slice(TEST_ORIGIN.length) : input
  }
  if (input instanceof URL) return input.origin === TEST_ORIGIN ? new URL(url + input.pathname + input.search) : input
  return input.url.startsWith(TEST_ORIGIN) ? new Request(url + input.url.slice(TEST_ORIGIN.length), input) : input
}
