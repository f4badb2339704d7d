import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PAGES } from '../../src/web/layout.js'
import { formBody, redirect, signIn } from '../helpers/dashboard.js'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

let t: TestApp

beforeAll(async () => {
  t = await createTestApp({}, { transport: 'in-process' })
})
afterAll(async () => t.close())

const login = (key: string) =>
  t.app.request('/dashboard/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: formBody({ key }),
  })

describe('dashboard', () => {
  it('sends visitors without a session to the sign-in page', async () => {
    for (const path of ['/dashboard', '/dashboard/usage', '/dashboard/requests', '/dashboard/usage.csv']) {
      const response = await t.app.request(path)
      expect(response.status, path).toBe(303)
      expect(response.headers.get('location')).toBe('/dashboard/login')
    }
    const page = await t.app.request('/dashboard/login')
    expect(await page.text()).toContain('Sign in with an admin key')
  })

  it('refuses wrong keys and project keys', async () => {
    const wrong = await login('sk-admin-not-a-real-key-000000000')
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('set-cookie')).toBeNull()
    const project = await login(PROJECT_KEY)
    expect(project.status).toBe(403)
    expect(await project.text()).toContain('project keys cannot sign in')
  })

  it('rejects a forged or tampered session cookie', async () => {
    const response = await t.app.request('/dashboard', { headers: { cookie: 'plinth_session=abc.123.forged' } })
    expect(response.status).toBe(303)
  })

  it('charts real usage for a signed-in admin, and never stores the key in the cookie', async () => {
    const client = t.client()
    for (let i = 0; i < 3; i++) {
      await client.chat.completions.create({ model: 'test-echo', messages: [{ role: 'user', content: `hello ${i}` }] })
    }
    await t.ctx.services.usage.flush()
    const session = await signIn(t)
    expect(session.cookie).toMatch(/^plinth_session=/)
    expect(decodeURIComponent(session.cookie)).not.toContain(ADMIN_KEY)
    const page = await (await session.get('/dashboard')).text()
    expect(page).toContain('<svg')
    expect(page).toMatch(/id="requests-14d">3</)
    expect(page).toContain('Tokens per day')
  })

  it('renders every page of the menu for a signed-in admin, each with the session token in its forms', async () => {
    const session = await signIn(t)
    for (const [path] of PAGES) {
      const response = await session.get(path)
      expect(response.status, path).toBe(200)
      const html = await response.text()
      expect(html, path).toContain(`name="_csrf" value="${session.csrf}"`)
      expect(html, path).toContain('class="on"')
    }
  })

  it('serves its style sheet unescaped: `.bar>i` is a selector, not `.bar&gt;i` (the progress bars never filled)', async () => {
    const session = await signIn(t)
    const html = await (await session.get('/dashboard/batches')).text()
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]
    expect(style).toContain('.bar>i{display:block')
    expect(style).not.toContain('&gt;')
  })

  it('refuses a form post without the session token, with a wrong one, or from another origin', async () => {
    const session = await signIn(t)
    for (const [fields, headers] of [
      [{ _csrf: '' }, {}],
      [{ _csrf: 'x'.repeat(session.csrf.length) }, {}],
      [{}, { origin: 'https://evil.example' }],
    ] as const) {
      const response = await session.post('/dashboard/projects', { name: 'Forged', ...fields }, headers)
      expect(response.status).toBe(403)
      expect(await response.text()).toContain('CSRF')
    }
    // another session's token does not work either
    const other = await signIn(t)
    expect(other.csrf).not.toBe(session.csrf)
    const crossed = await t.app.request('/dashboard/projects', {
      method: 'POST',
      headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: formBody({ _csrf: other.csrf, name: 'Forged' }),
    })
    expect(crossed.status).toBe(403)
    const rows = await t.ctx.storage.db.selectFrom('projects').select('name').execute()
    expect(rows.map((r) => r.name)).not.toContain('Forged')
  })

  it('sets the session cookie HttpOnly and SameSite=Strict on /dashboard', async () => {
    const response = await login(ADMIN_KEY)
    const cookie = response.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(/HttpOnly/i)
    expect(cookie).toMatch(/SameSite=Strict/i)
    expect(cookie).toMatch(/Path=\/dashboard/)
  })

  it('ends the session on sign-out (with its token; without it, the session stays)', async () => {
    const session = await signIn(t)
    const forged = await t.app.request('/dashboard/logout', { method: 'POST', headers: { cookie: session.cookie } })
    expect(forged.headers.get('set-cookie')).toBeNull()
    expect((await session.get('/dashboard')).status).toBe(200)
    const out = await session.post('/dashboard/logout')
    expect(out.status).toBe(303)
    expect(out.headers.get('set-cookie')).toMatch(/plinth_session=;/)
  })

  it('shows a domain error on the page it came from, never a stack', async () => {
    const session = await signIn(t)
    const response = await session.post('/dashboard/projects', { name: '' })
    expect(response.status).toBe(303)
    const { to, error } = redirect(response)
    expect(to).toBe('/dashboard/projects')
    expect(error).toMatch(/name/)
    const page = await (await session.get(response.headers.get('location')!)).text()
    expect(page).toContain('role="alert"')
    const missing = await session.get('/dashboard/projects/proj_nope')
    expect(missing.status).toBe(404)
    expect(await missing.text()).toContain('proj_nope')
  })

  it('never sends the browser back outside the dashboard', async () => {
    const session = await signIn(t)
    const response = await session.post('/dashboard/projects', { name: 'Back test', _back: 'https://evil.example/x' })
    expect(redirect(response).to).toMatch(/^\/dashboard\/projects\/proj_/)
    const failed = await session.post('/dashboard/projects', { name: '', _back: '//evil.example/x' })
    expect(failed.headers.get('location')).toMatch(/^\/dashboard\/projects\?/)
  })
})

describe('dashboard sign-in throttle', () => {
  it('refuses further attempts after 10 failures in a minute, the right key included, without auditing them', async () => {
    const fresh = await createTestApp({}, { transport: 'in-process' })
    try {
      const attempt = (key: string) =>
        fresh.app.request('/dashboard/login', {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: formBody({ key }),
        })
      for (let i = 0; i < 10; i++) expect((await attempt(`sk-admin-guess-${i}-0000000000000000`)).status).toBe(401)
      const audited = async () => (await fresh.ctx.storage.db.selectFrom('audit_logs').select('id').where('type', '=', 'login.failed').execute()).length
      const before = await audited()
      const blocked = await attempt(ADMIN_KEY)
      expect(blocked.status).toBe(429)
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(await blocked.text()).toContain('Too many failed sign-ins')
      expect(await audited()).toBe(before)
    } finally {
      await fresh.close()
    }
  })
})
