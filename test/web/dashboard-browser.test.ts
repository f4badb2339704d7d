import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { serve, type ServerType } from '@hono/node-server'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.js'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// Debian's Chromium, driven by playwright-core (never a browser download). CI installs it.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const available = fs.existsSync(CHROMIUM)
if (!available) process.stderr.write(`dashboard browser test skipped: no Chromium at ${CHROMIUM} (CI installs it)\n`)

describe.skipIf(!available)('dashboard in a real browser', () => {
  let t: TestApp
  let server: ServerType
  let browser: Browser
  let base = ''

  beforeAll(async () => {
    t = await createTestApp()
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: createApp(t.ctx).fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s))
    })
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await new Promise((resolve) => server?.close(resolve))
    await t?.close()
  })

  it('signs in with the admin key, shows usage charts, and streams a chat in the playground', async () => {
    await t.client().chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: 'warm up' }] })
    await t.ctx.services.usage.flush()
    const page = await browser.newPage()
    const logs: string[] = []
    page.on('console', (m) => logs.push(m.text()))
    page.on('pageerror', (e) => logs.push(String(e)))
    await page.goto(`${base}/dashboard`)
    expect(page.url()).toBe(`${base}/dashboard/login`)
    await page.fill('input[name=key]', ADMIN_KEY)
    await page.click('button[type=submit]')
    await page.waitForURL(`${base}/dashboard`)
    expect(await page.textContent('#requests-14d')).toBe('1')
    expect(await page.locator('svg rect').count()).toBeGreaterThan(0)
    await page.screenshot({ path: path.join(os.tmpdir(), 'plinth-dashboard.png'), fullPage: true })

    await page.click('a[href="/dashboard/playground"]')
    await page.selectOption('select[name=model]', 'test-echo')
    await page.fill('input[name=key]', PROJECT_KEY)
    await page.fill('textarea[name=prompt]', 'Streaming through a real browser')
    await page.click('#pg button[type=submit]')
    await page
      .waitForFunction(() => document.getElementById('out')?.textContent?.includes('completion tokens'), null, { timeout: 15_000 })
      .catch((error) => {
        throw new Error(`${error.message}\nbrowser said: ${logs.join('\n')}`)
      })
    expect(await page.textContent('#out')).toContain('Streaming through a real browser')
    await page.screenshot({ path: path.join(os.tmpdir(), 'plinth-playground.png'), fullPage: true })
  }, 60_000)
})
