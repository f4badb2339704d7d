import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'
import { createApp } from '../../src/app.js'
import { parseConfig } from '../../src/config/load.js'
import type { ConfigInput } from '../../src/config/schema.js'
import { createContext, type AppContext } from '../../src/context.js'
import { validatingFetch } from './validating-fetch.js'

export const ADMIN_KEY = 'sk-admin-test-0000000000000000000000'
export const PROJECT_KEY = 'sk-proj-test-00000000000000000000000'
export const SCRIPT_FILE = path.resolve(import.meta.dirname, 'fixtures/scripted.json')

export type TestApp = {
  ctx: AppContext
  app: ReturnType<typeof createApp>
  /**
   * fetch into the app in-process (no port). Every response to a spec operation is validated
   * against the official OpenAPI spec; setup.ts fails the test on a violation.
   */
  fetch: typeof fetch
  client(key?: string, options?: Partial<ConstructorParameters<typeof OpenAI>[0]>): OpenAI
  close(): Promise<void>
}

/** A fresh Plinth on its own SQLite file (or TEST_PG_URL when dialect is postgres). */
export async function createTestApp(overrides: Partial<ConfigInput> = {}): Promise<TestApp> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-test-'))
  const config = parseConfig({
    dataDir,
    bootstrap: { adminKey: ADMIN_KEY, projectKey: PROJECT_KEY },
    testModels: { enabled: true, scriptFile: SCRIPT_FILE },
    ...overrides,
  })
  const ctx = await createContext(config)
  const app = createApp(ctx)
  const fetchIn = validatingFetch(((input: RequestInfo | URL, init?: RequestInit) =>
    app.request(input as any, init as any)) as typeof fetch)
  return {
    ctx,
    app,
    fetch: fetchIn,
    client(key = PROJECT_KEY, options = {}) {
      return new OpenAI({
        apiKey: key,
        baseURL: 'http://plinth.test/v1',
        fetch: fetchIn,
        maxRetries: 0,
        ...options,
      })
    },
    async close() {
      await ctx.close()
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
