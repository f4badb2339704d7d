import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminClient, newProjectKey } from '../helpers/admin.js'
import { ADMIN_KEY, createTestApp, type TestApp } from '../helpers/test-context.js'

// The dashboard as a management console, in a real browser: the streamed playground, project
// members, service account and invite deletion, and the request log's opt-in text. Each flow is
// checked through the API afterwards (the official SDK), audit entry included.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const available = fs.existsSync(CHROMIUM)
if (!available) process.stderr.write(`dashboard console browser test skipped: no Chromium at ${CHROMIUM} (CI installs it)\n`)
const SHOTS = path.join(os.tmpdir(), 'plinth-dashboard-shots')
const SLOW = 'a b c d e f g h i j k l m n o p q r s t u v w x y z'

describe.skipIf(!available)('the dashboard console in a real browser', () => {
  let t: TestApp
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let admin: ReturnType<typeof adminClient>['admin']
  const logs: string[] = []

  const lastAudit = async (type: string) => ((await admin.organization.auditLogs.list({ event_types: [type as any], limit: 1 })).data as any[])[0]
  const notice = async () => (await page.textContent('.notice'))?.trim() ?? ''

  /** A user of the organization: an invite (made by the service, for its token), accepted through the API. */
  async function newUser(email: string): Promise<string> {
    const invite = await t.ctx.services.admin.invites.create(await t.ctx.services.keys.authenticate(ADMIN_KEY), { email, role: 'reader' })
    const accepted = await t.fetch(`${t.url}/v1/organization/invites/${invite.id}/accept`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: invite.accept_token }),
    })
    expect(accepted.status).toBe(200)
    return ((await accepted.json()) as any).user.id
  }

  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true })
    t = await createTestApp({}, { transport: 'http' })
    admin = adminClient(t).admin
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
    context = await browser.newContext()
    page = await context.newPage()
    page.on('console', (m) => logs.push(m.text()))
    page.on('pageerror', (e) => logs.push(String(e)))
    await page.goto(`${t.url}/dashboard/login`)
    await page.fill('input[name=key]', ADMIN_KEY)
    await page.click('button[type=submit]')
    await page.waitForURL(`${t.url}/dashboard`)
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await t?.close()
  })

  it('streams the playground answer into the page as it arrives, and keeps the turn for the next one', async () => {
    await page.goto(`${t.url}/dashboard/playground`)
    await page.selectOption('#pg select[name=model]', 'test-scripted')
    await page.fill('#pg textarea[name=system]', 'Take your time.')
    await page.fill('#pg textarea[name=prompt]', 'go slowly')
    // every change of the streaming bubble's text, while it exists; and a mark a reload would lose
    await page.evaluate(() => {
      const w = window as any
      w.__seen = []
      w.__samePage = true
      new MutationObserver(() => {
        const live = document.querySelector('#conversation .msg[data-role=streaming]')
        if (live) w.__seen.push(live.textContent)
      }).observe(document.body, { subtree: true, childList: true, characterData: true })
    })
    await page.click('#pg button[type=submit]')
    await page.waitForSelector('#conversation .msg[data-role=streaming]')
    // part of the answer is on the page before the model has finished
    await page.waitForFunction((full) => {
      const live = document.querySelector('#conversation .msg[data-role=streaming]')
      const text = live?.textContent ?? ''
      return text.length > 'assistant'.length + 4 && !text.endsWith(full)
    }, SLOW)
    await page.waitForSelector('#conversation .msg[data-role=assistant]')
    const seen: string[] = await page.evaluate(() => (window as any).__seen)
    const distinct = [...new Set(seen)]
    expect(distinct.length).toBeGreaterThan(5)
    for (let i = 1; i < distinct.length; i++) expect(distinct[i].length).toBeGreaterThan(distinct[i - 1].length)
    expect(await page.evaluate(() => (window as any).__samePage)).toBe(true)
    expect(await page.textContent('#conversation .msg[data-role=assistant]')).toBe(`assistant${SLOW}`)
    expect(await page.locator('#conversation .msg[data-role=streaming]').count()).toBe(0)
    expect(await page.textContent('#usage')).toMatch(/\d+ prompt \+ \d+ completion tokens · stop/)
    const kept = JSON.parse(await page.inputValue('#pg input[name=messages]'))
    expect(kept).toEqual([
      { role: 'user', content: 'go slowly' },
      { role: 'assistant', content: SLOW },
    ])

    // the next turn carries the first one and the settings
    await page.selectOption('#pg select[name=model]', 'test-echo')
    await page.fill('#pg textarea[name=prompt]', 'and now quickly')
    await page.click('#pg button[type=submit]')
    await page.waitForFunction(() => document.querySelectorAll('#conversation .msg[data-role=assistant]').length === 2)
    expect(await page.locator('#conversation .msg').count()).toBe(4)
    expect(await page.inputValue('#pg textarea[name=system]')).toBe('Take your time.')
    expect(JSON.parse(await page.inputValue('#pg input[name=messages]')).map((m: any) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant'])
    expect(await page.evaluate(() => (window as any).__samePage)).toBe(true)
    await page.screenshot({ path: path.join(SHOTS, 'playground-streamed.png'), fullPage: true })

    // an error comes back in the form, the conversation as it was
    // past the input's own max (which the browser would enforce), so that the API's check answers
    await page.evaluate(() => {
      const input = document.querySelector('#pg input[name=temperature]') as HTMLInputElement
      input.removeAttribute('max')
      input.value = '7'
    })
    await page.fill('#pg textarea[name=prompt]', 'too hot')
    await page.click('#pg button[type=submit]')
    await page.waitForSelector('#pg [role=alert]')
    expect(await page.textContent('#pg [role=alert]')).toContain('temperature')
    expect(JSON.parse(await page.inputValue('#pg input[name=messages]'))).toHaveLength(4)
  }, 60_000)

  it('refuses a streamed turn whose CSRF token was tampered with, and shows the refusal', async () => {
    await page.goto(`${t.url}/dashboard/playground`)
    await page.evaluate(() => ((document.querySelector('#pg input[name=_csrf]') as HTMLInputElement).value = 'forged'))
    await page.fill('#pg textarea[name=prompt]', 'forged turn')
    await page.click('#pg button[type=submit]')
    await page.waitForSelector('.error[role=alert]')
    expect(await page.textContent('.error[role=alert]')).toContain('CSRF')
    expect(await page.locator('#pg').count()).toBe(0)
  }, 30_000)

  it('keeps a no-JavaScript playground: the form posts and the turn comes back in the page', async () => {
    const plain = await browser.newContext({ javaScriptEnabled: false })
    await plain.addCookies(await context.cookies())
    const p = await plain.newPage()
    await p.goto(`${t.url}/dashboard/playground`)
    await p.selectOption('#pg select[name=model]', 'test-echo')
    await p.fill('#pg textarea[name=prompt]', 'no script here')
    await p.click('#pg button[type=submit]')
    await p.waitForSelector('#conversation .msg[data-role=assistant]')
    expect(JSON.parse(await p.inputValue('#pg input[name=messages]')).map((m: any) => m.role)).toEqual(['user', 'assistant'])
    await plain.close()
  }, 30_000)

  it('adds a user to a project, changes their role and removes them; the API shows each change and its audit entry', async () => {
    const project = await admin.organization.projects.create({ name: 'Console project' })
    const userId = await newUser('member@example.com')
    await page.goto(`${t.url}/dashboard/projects/${project.id}`)
    await page.selectOption('#add-member select[name=user_id]', userId)
    await page.selectOption('#add-member select[name=role]', 'member')
    await page.click('#add-member button[type=submit]')
    await page.waitForSelector('.notice')
    expect(await notice()).toContain('added to the project as member')
    expect(await admin.organization.projects.users.retrieve(userId, { project_id: project.id })).toMatchObject({ role: 'member' })
    expect((await lastAudit('user.added'))['user.added']).toMatchObject({ id: userId, data: { role: 'member' } })

    const row = page.locator(`tr[data-member="${userId}"]`)
    await row.locator('select[name=role]').selectOption('owner')
    await row.locator('form:has(select) button').click()
    await page.waitForSelector('.notice')
    expect((await admin.organization.projects.users.retrieve(userId, { project_id: project.id })).role).toBe('owner')
    expect((await lastAudit('user.updated'))['user.updated']).toMatchObject({ id: userId, changes_requested: { role: 'owner' } })

    await page.locator(`tr[data-member="${userId}"] button.danger`).click()
    await page.waitForSelector('.notice')
    expect((await admin.organization.projects.users.list(project.id)).data.map((u) => u.id)).not.toContain(userId)
    expect((await lastAudit('user.deleted'))['user.deleted'].id).toBe(userId)
  }, 30_000)

  it('deletes a service account (its key stops working); the API shows it and its audit entry', async () => {
    const project = await admin.organization.projects.create({ name: 'Console bots' })
    const account = await admin.organization.projects.serviceAccounts.create(project.id, { name: 'short-lived' })
    expect((await t.client(account.api_key!.value).models.list()).data.length).toBeGreaterThan(0)
    await page.goto(`${t.url}/dashboard/projects/${project.id}`)
    await page.locator(`tr[data-service-account="${account.id}"] button.danger`).click()
    await page.waitForSelector('.notice')
    expect(await notice()).toContain('deleted')
    expect((await admin.organization.projects.serviceAccounts.list(project.id)).data).toEqual([])
    await expect(t.client(account.api_key!.value).models.list()).rejects.toMatchObject({ status: 401 })
    expect((await lastAudit('service_account.deleted'))['service_account.deleted'].id).toBe(account.id)
    expect((await lastAudit('api_key.deleted'))['api_key.deleted'].id).toBe(account.api_key!.id)
  }, 30_000)

  it('keeps a project’s prompts and answers in the request log once turned on (audited), and shows them in the detail', async () => {
    const project = await admin.organization.projects.create({ name: 'Console debug' })
    await page.goto(`${t.url}/dashboard/projects/${project.id}`)
    expect(await page.textContent('#request-log-bodies-state')).toBe('not kept')
    await page.click('#request-log-bodies button[type=submit]')
    await page.waitForSelector('.notice')
    expect(await page.textContent('#request-log-bodies-state')).toBe('kept')
    expect((await lastAudit('project.updated'))['project.updated']).toMatchObject({ id: project.id, changes_requested: { request_log_bodies: true } })

    const key = await newProjectKey(t, project.id)
    await t.client(key).chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: 'remember this prompt' }] })
    for (let i = 0; i < 100 && !t.ctx.requestLog.recent({ projectId: project.id }).length; i++) await new Promise((r) => setTimeout(r, 10))
    await page.goto(`${t.url}/dashboard/requests?project=${project.id}`)
    await page.locator('#requests tr[data-status] a').first().click()
    await page.waitForURL(/\/dashboard\/requests\/\d+$/)
    expect(await page.textContent('#prompt')).toBe('user: remember this prompt')
    expect(await page.textContent('#answer')).toContain('remember this prompt')
    expect(await page.content()).not.toContain(key)
    await page.screenshot({ path: path.join(SHOTS, 'request-detail.png'), fullPage: true })
  }, 30_000)

  it('cancels an invite at phone width, where every new control fits the screen', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } })
    await phone.context().addCookies(await context.cookies())
    const invite = await admin.organization.invites.create({ email: 'phone.invite@example.com', role: 'reader' })
    const project = (await admin.organization.projects.list()).data.find((p) => p.name === 'Console debug')!
    await newUser('phone.member@example.com')
    const seq = t.ctx.requestLog.recent({ projectId: project.id })[0].seq
    for (const href of [`/dashboard/projects/${project.id}`, '/dashboard/users', `/dashboard/requests/${seq}`, '/dashboard/playground']) {
      await phone.goto(`${t.url}${href}`)
      const fit = await phone.evaluate(() => {
        const within = (selector: string) =>
          [...document.querySelectorAll(selector)].every((el) => {
            const box = el.getBoundingClientRect()
            return box.left >= 0 && box.right <= 390
          })
        return {
          scroll: document.documentElement.scrollWidth,
          forms: within('#add-member, #request-log-bodies, #request-log-bodies button, #invite, #pg, #pg button, #prompt, #answer'),
        }
      })
      expect(fit.scroll, href).toBeLessThanOrEqual(390)
      expect(fit.forms, href).toBe(true)
      await phone.screenshot({ path: path.join(SHOTS, `phone-console-${href.split('/')[2]}.png`), fullPage: true })
    }
    await phone.goto(`${t.url}/dashboard/users`)
    // the button sits in a table that scrolls sideways on a phone: it is reached and used there
    await phone.locator(`tr[data-invite="${invite.id}"] button.danger`).click()
    await phone.waitForSelector('.notice')
    expect((await admin.organization.invites.list()).data.map((i) => i.id)).not.toContain(invite.id)
    expect((await lastAudit('invite.deleted'))['invite.deleted'].id).toBe(invite.id)
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    await phone.close()
    expect(logs.filter((l) => /error/i.test(l) && !/403/.test(l))).toEqual([])
  }, 60_000)
})
