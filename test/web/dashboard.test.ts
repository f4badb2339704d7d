import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

let t: TestApp

beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => t.close())

async function signIn(key: string) {
  return t.app.request('/dashboard/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ key }).toString(),
  })
}

function cookieOf(response: Response): string {
  return (response.headers.get('set-cookie') ?? '').split(';')[0]
}

describe('dashboard', () => {
  it('sends visitors without a session to the sign-in page', async () => {
    const response = await t.app.request('/dashboard')
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/dashboard/login')
    const login = await t.app.request('/dashboard/login')
    expect(await login.text()).toContain('Sign in with an admin key')
  })

  it('refuses wrong keys and project keys', async () => {
    const wrong = await signIn('sk-admin-not-a-real-key-000000000')
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('set-cookie')).toBeNull()
    const project = await signIn(PROJECT_KEY)
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
    const login = await signIn(ADMIN_KEY)
    expect(login.status).toBe(303)
    const cookie = cookieOf(login)
    expect(cookie).toMatch(/^plinth_session=/)
    expect(decodeURIComponent(cookie)).not.toContain(ADMIN_KEY)
    const page = await (await t.app.request('/dashboard', { headers: { cookie } })).text()
    expect(page).toContain('<svg')
    expect(page).toMatch(/id="requests-14d">3</)
    expect(page).toContain('Tokens per day')
  })

  it('renders every page for a signed-in admin', async () => {
    const cookie = cookieOf(await signIn(ADMIN_KEY))
    for (const [path, text] of [
      ['/dashboard/projects', 'Default project'],
      ['/dashboard/batches', 'Batches'],
      ['/dashboard/models', 'test-echo'],
      ['/dashboard/audit', 'Audit log'],
      ['/dashboard/playground', '/v1/chat/completions'],
    ]) {
      const response = await t.app.request(path, { headers: { cookie } })
      expect(response.status, path).toBe(200)
      expect(await response.text(), path).toContain(text)
    }
  })

  it('ends the session on sign-out', async () => {
    const cookie = cookieOf(await signIn(ADMIN_KEY))
    const out = await t.app.request('/dashboard/logout', { method: 'POST', headers: { cookie } })
    expect(out.status).toBe(303)
    expect(out.headers.get('set-cookie')).toMatch(/plinth_session=;/)
  })
})

describe('dashboard sign-in throttle', () => {
  it('refuses further attempts after 10 failures in a minute, the right key included, without auditing them', async () => {
    const fresh = await createTestApp()
    try {
      const attempt = (key: string) =>
        fresh.app.request('/dashboard/login', {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ key }).toString(),
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
