import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PAGES } from '../../src/web/layout.js'
import { adminClient } from '../helpers/admin.js'
import { ADMIN_KEY, createTestApp, type TestApp } from '../helpers/test-context.js'

// Debian's Chromium, driven by playwright-core (never a browser download). CI installs it.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const available = fs.existsSync(CHROMIUM)
if (!available) process.stderr.write(`dashboard browser test skipped: no Chromium at ${CHROMIUM} (CI installs it)\n`)
const SHOTS = path.join(os.tmpdir(), 'plinth-dashboard-shots')

describe.skipIf(!available)('dashboard in a real browser', () => {
  let t: TestApp
  let browser: Browser
  let page: Page
  let admin: ReturnType<typeof adminClient>['admin']
  const logs: string[] = []

  const lastAudit = async (type: string) => ((await admin.organization.auditLogs.list({ event_types: [type as any], limit: 1 })).data as any[])[0]
  const notice = async () => (await page.textContent('.notice'))?.trim() ?? ''

  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true })
    t = await createTestApp()
    t.ctx.jobs.start()
    admin = adminClient(t).admin
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
    page = await browser.newPage()
    page.on('console', (m) => logs.push(m.text()))
    page.on('pageerror', (e) => logs.push(String(e)))
    await t.client().chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: 'warm up' }] })
    await t.ctx.services.usage.flush()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await t?.close()
  })

  it('signs in with the admin key and charts usage', async () => {
    await page.goto(`${t.url}/dashboard`)
    expect(page.url()).toBe(`${t.url}/dashboard/login`)
    await page.fill('input[name=key]', ADMIN_KEY)
    await page.click('button[type=submit]')
    await page.waitForURL(`${t.url}/dashboard`)
    expect(await page.textContent('#requests-14d')).toBe('1')
    expect(await page.locator('svg rect').count()).toBeGreaterThan(0)
    await page.screenshot({ path: path.join(SHOTS, 'overview.png'), fullPage: true })
  }, 30_000)

  it('creates a project, a key (secret once), restricts and revokes it; the API shows each change and its audit entry', async () => {
    await page.click('a[href="/dashboard/projects"]')
    await page.fill('#create-project input[name=name]', 'Browser project')
    await page.click('#create-project button[type=submit]')
    await page.waitForURL(/\/dashboard\/projects\/proj_/)
    const projectId = new URL(page.url()).pathname.split('/').pop()!
    expect((await admin.organization.projects.retrieve(projectId)).name).toBe('Browser project')
    expect((await lastAudit('project.created'))['project.created'].id).toBe(projectId)

    await page.fill('#create-key input[name=name]', 'browser key')
    await page.fill('#create-key input[name=permissions]', 'models=read')
    await page.click('#create-key button[type=submit]')
    const secret = (await page.textContent('#new-secret'))!
    expect(secret).toMatch(/^sk-proj-/)
    expect((await t.client(secret).models.list()).data.length).toBeGreaterThan(0)
    const [key] = (await admin.organization.projects.apiKeys.list(projectId)).data
    expect(key.name).toBe('browser key')
    expect((await lastAudit('api_key.created'))['api_key.created']).toMatchObject({ id: key.id, data: { scopes: ['api.model.read'] } })

    await page.goto(`${t.url}/dashboard/projects/${projectId}`)
    expect(await page.content()).not.toContain(secret)
    const row = page.locator(`tr[data-key="${key.id}"]`)
    await row.locator('input[name=permissions]').fill('chat=write')
    await row.locator('form:has(input[name=permissions]) button').click()
    await page.waitForSelector('.notice')
    expect(await notice()).toContain('saved')
    await expect(t.client(secret).models.list()).rejects.toMatchObject({ status: 401 })
    expect((await lastAudit('api_key.updated'))['api_key.updated']).toMatchObject({ id: key.id, after: { permissions: { mode: 'restricted', scopes: { chat: 'write' } } } })

    await page.locator(`tr[data-key="${key.id}"] button.danger`).click()
    await page.waitForSelector('.notice')
    expect(await notice()).toContain('revoked')
    expect((await admin.organization.projects.apiKeys.list(projectId)).data).toEqual([])
    expect((await lastAudit('api_key.deleted'))['api_key.deleted'].id).toBe(key.id)

    await page.fill('#create-service-account input[name=name]', 'browser-bot')
    await page.click('#create-service-account button[type=submit]')
    expect(await page.textContent('#new-secret')).toMatch(/^sk-proj-/)
    const [account] = (await admin.organization.projects.serviceAccounts.list(projectId)).data
    expect(account.name).toBe('browser-bot')
    expect((await lastAudit('service_account.created'))['service_account.created'].id).toBe(account.id)

    await page.goto(`${t.url}/dashboard/projects/${projectId}`)
    await page.fill('input[aria-label="test-echo max_requests_per_1_minute"]', '9')
    await page.click('#limit-rl-test-echo button')
    await page.waitForSelector('.notice')
    const limits = (await admin.organization.projects.rateLimits.listRateLimits(projectId)).data
    expect(limits.find((l) => l.model === 'test-echo')?.max_requests_per_1_minute).toBe(9)
    expect((await lastAudit('rate_limit.updated'))['rate_limit.updated']).toMatchObject({ id: 'rl-test-echo', changes_requested: { max_requests_per_1_minute: 9 } })

    await page.selectOption('#model-permissions select[name=mode]', 'allow_list')
    await page.check('#model-permissions input[value="test-echo"]')
    await page.click('#model-permissions button[type=submit]')
    await page.waitForSelector('.notice')
    expect(await admin.organization.projects.modelPermissions.retrieve(projectId)).toMatchObject({ mode: 'allow_list', model_ids: ['test-echo'] })
    expect((await lastAudit('project.updated'))['project.updated'].after.model_permissions).toEqual({ object: 'project.model_permissions', mode: 'allow_list', model_ids: ['test-echo'] })
    await page.screenshot({ path: path.join(SHOTS, 'project.png'), fullPage: true })

    await page.goto(`${t.url}/dashboard/projects`)
    await page.locator(`tr[data-project="${projectId}"] button.danger`).click()
    await page.waitForSelector('.notice')
    expect((await admin.organization.projects.retrieve(projectId)).status).toBe('archived')
    expect((await lastAudit('project.archived'))['project.archived'].id).toBe(projectId)
  }, 60_000)

  it('invites a user and changes a role; the API shows both and their audit entries', async () => {
    await page.goto(`${t.url}/dashboard/users`)
    await page.fill('#invite input[name=email]', 'browser.user@example.com')
    await page.click('#invite button[type=submit]')
    const token = (await page.textContent('#invite-token'))!
    const invite = (await admin.organization.invites.list()).data.find((i) => i.email === 'browser.user@example.com')!
    expect((await lastAudit('invite.sent'))['invite.sent'].id).toBe(invite.id)
    const accept = await t.fetch(`${t.url}/v1/organization/invites/${invite.id}/accept`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) })
    expect(accept.status).toBe(200)
    const user = (await admin.organization.users.list()).data.find((u) => u.email === 'browser.user@example.com')!
    await page.goto(`${t.url}/dashboard/users`)
    const row = page.locator(`tr[data-user="${user.id}"]`)
    await row.locator('select[name=role]').selectOption('owner')
    await row.locator('button').click()
    await page.waitForSelector('.notice')
    expect((await admin.organization.users.retrieve(user.id)).role).toBe('owner')
    expect((await lastAudit('user.updated'))['user.updated']).toMatchObject({ id: user.id, changes_requested: { role: 'owner' } })
  }, 30_000)

  it('filters usage, lists requests, and holds a two-turn chat in the playground', async () => {
    await page.goto(`${t.url}/dashboard/usage`)
    await page.selectOption('#usage-filters select[name=width]', '1h')
    await page.click('#usage-filters button[type=submit]')
    await page.waitForURL(/width=1h/)
    expect(await page.textContent('#usage-requests')).toBe('1')
    const csv = await (await page.request.get(`${t.url}${await page.getAttribute('#usage-csv', 'href')}`)).text()
    expect(csv.split('\r\n')[0]).toContain('num_model_requests')

    await page.goto(`${t.url}/dashboard/requests`)
    expect(await page.locator('#requests tr[data-status]').count()).toBeGreaterThan(3)
    await page.selectOption('#filters select[name=status]', '4xx')
    await page.click('#filters button[type=submit]')
    await page.waitForURL(/status=4xx/)
    const statuses = await page.locator('#requests tr[data-status]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status')))
    expect(statuses.length).toBeGreaterThan(0)
    expect(statuses.every((s) => s!.startsWith('4'))).toBe(true)

    await page.goto(`${t.url}/dashboard/playground`)
    await page.selectOption('#pg select[name=model]', 'test-echo')
    await page.fill('#pg textarea[name=system]', 'Answer briefly.')
    await page.fill('#pg textarea[name=prompt]', 'Hello from a real browser')
    await page.click('#pg button[type=submit]')
    await page.waitForSelector('#conversation .msg[data-role=assistant]')
    await page.fill('#pg textarea[name=prompt]', 'And a second turn')
    await page.click('#pg button[type=submit]')
    await page.waitForFunction(() => document.querySelectorAll('#conversation .msg[data-role=assistant]').length === 2)
    expect(await page.locator('#conversation .msg').count()).toBe(4)
    expect(await page.inputValue('#pg textarea[name=system]')).toBe('Answer briefly.')
    await page.screenshot({ path: path.join(SHOTS, 'playground.png'), fullPage: true })
  }, 30_000)

  it('fills the batch progress bar (the style sheet applies)', async () => {
    const client = t.client()
    const line = JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: { model: 'test-echo', messages: [{ role: 'user', content: 'x' }] } })
    const { toFile } = await import('openai')
    const file = await client.files.create({ file: await toFile(Buffer.from(line), 'b.jsonl'), purpose: 'batch' })
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    for (let i = 0; i < 200 && (await client.batches.retrieve(batch.id)).status !== 'completed'; i++) await new Promise((r) => setTimeout(r, 50))
    await page.goto(`${t.url}/dashboard/batches`)
    const [bar, fill] = await page.locator(`tr[data-batch="${batch.id}"] .bar`).evaluate((el) => [el.getBoundingClientRect().width, el.querySelector('i')!.getBoundingClientRect().width])
    expect(bar).toBeGreaterThan(50)
    expect(fill).toBeCloseTo(bar, 0)
  }, 30_000)

  it('fits a phone (390x844): nothing wider than the screen, "Sign out" in view on every page', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } })
    const cookies = await page.context().cookies()
    await phone.context().addCookies(cookies)
    for (const [href] of PAGES) {
      await phone.goto(`${t.url}${href}`)
      const fit = await phone.evaluate(() => {
        const button = document.getElementById('sign-out')!.getBoundingClientRect()
        return { scroll: document.documentElement.scrollWidth, right: button.right, left: button.left, width: button.width }
      })
      expect(fit.scroll, href).toBeLessThanOrEqual(390)
      expect(fit.left, href).toBeGreaterThanOrEqual(0)
      expect(fit.right, href).toBeLessThanOrEqual(390)
      expect(fit.width, href).toBeGreaterThan(40)
      await phone.screenshot({ path: path.join(SHOTS, `phone-${href.split('/').pop()}.png`), fullPage: false })
    }
    await phone.close()
    expect(logs.filter((l) => /error/i.test(l))).toEqual([])
  }, 60_000)
})
