import { ADMIN_KEY, type TestApp } from './test-context.js'

/** A signed-in dashboard session over app.request: its cookie and CSRF token. */
export type DashboardSession = {
  cookie: string
  csrf: string
  get(path: string): Promise<Response>
  /** A form post with the session's CSRF token (and `_back`), unless the fields override them. */
  post(path: string, fields?: Record<string, string | string[]>, headers?: Record<string, string>): Promise<Response>
}

export function formBody(fields: Record<string, string | string[]>): string {
  const body = new URLSearchParams()
  for (const [name, value] of Object.entries(fields)) for (const v of Array.isArray(value) ? value : [value]) body.append(name, v)
  return body.toString()
}

export function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html)
  if (!match) throw new Error('no CSRF token on the page')
  return match[1]
}

export async function signIn(t: TestApp, key = ADMIN_KEY): Promise<DashboardSession> {
  const login = await t.app.request('/dashboard/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: formBody({ key }),
  })
  if (login.status !== 303) throw new Error(`sign-in answered ${login.status}`)
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]
  const get = async (path: string) => t.app.request(path, { headers: { cookie } })
  const csrf = csrfOf(await (await get('/dashboard')).text())
  return {
    cookie,
    csrf,
    get,
    post: async (path, fields = {}, headers = {}) =>
      t.app.request(path, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: formBody({ _csrf: csrf, _back: path, ...fields }),
      }),
  }
}

/** Where a 303 sends the browser, and the notice or error it carries. */
export function redirect(response: Response): { to: string; notice?: string; error?: string } {
  const to = response.headers.get('location') ?? ''
  const url = new URL(to, 'http://x')
  return { to: url.pathname, notice: url.searchParams.get('notice') ?? undefined, error: url.searchParams.get('error') ?? undefined }
}
