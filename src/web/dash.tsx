import type { Context, Hono } from 'hono'
import { ApiError } from '../errors.js'
import type { AppEnv } from '../http/env.js'
import type { Principal } from '../principal.js'
import { Page } from './layout.js'
import { readSession, sameToken } from './session.js'
import type { View } from './view.js'

/** What an action did: back to a page (with a one-line notice), a page to show now, or a response (a stream). */
export type Outcome = { back?: string; notice?: string } | { page: unknown; status?: number } | { response: Response }
export type Form = Record<string, string | string[]>

/** How pages register: GETs render a page; POSTs are actions, CSRF-checked. */
export type Dash = {
  get(path: string, render: (view: View, c: Context<AppEnv>) => unknown): void
  post(path: string, act: (view: View, form: Form, c: Context<AppEnv>) => Promise<Outcome>): void
}

/** Where a form may send the browser back to: a dashboard page, never elsewhere. */
export function safeBack(value: unknown, fallback: string): string {
  return typeof value === 'string' && /^\/dashboard(?:[/?]|$)/.test(value) && !value.includes('//') ? value : fallback
}

export function withMessage(back: string, key: 'notice' | 'error', message: string): string {
  const url = new URL(back, 'http://dashboard.local')
  url.searchParams.delete('notice')
  url.searchParams.delete('error')
  url.searchParams.set(key, message)
  return url.pathname + url.search
}

export function createDash(app: Hono<AppEnv>, secret: string, adminFor: (keyHash: string) => Promise<Principal | undefined>): Dash {
  async function viewOf(c: Context<AppEnv>): Promise<View | undefined> {
    const session = await readSession(c, secret)
    const admin = session ? await adminFor(session.keyHash) : undefined
    if (!session || !admin) return undefined
    const url = new URL(c.req.url)
    return { admin, csrf: session.csrf, here: url.pathname + url.search, query: Object.fromEntries(url.searchParams) }
  }

  return {
    get(path, render) {
      app.get(path, async (c) => {
        const view = await viewOf(c)
        if (!view) return c.redirect('/dashboard/login', 303)
        try {
          const out = await render(view, c)
          return out instanceof Response ? out : c.html(out as string)
        } catch (error) {
          if (!(error instanceof ApiError)) throw error
          return c.html(<Page title="Error" path={path} view={view} error={error.message} />, error.status as 404)
        }
      })
    },
    post(path, act) {
      app.post(path, async (c) => {
        const view = await viewOf(c)
        if (!view) return c.redirect('/dashboard/login', 303)
        const form = (await c.req.parseBody({ all: true })) as Form
        if (!sameToken(form._csrf, view.csrf) || !sameOrigin(c)) {
          return c.html(
            <Page title="Refused" path={path} view={view} error="This form has expired or did not come from this dashboard (CSRF check). Reload the page and try again." />,
            403,
          )
        }
        // a reader's admin key only reads through the API (http/permissions.ts): here too
        if (view.admin.role === 'reader') {
          return c.html(<Page title="Refused" path={path} view={view} error="Your role in the organization is reader: you can look, not change anything. An owner can change your role on the Users page." />, 403)
        }
        const back = safeBack(form._back, path)
        try {
          const outcome = await act({ ...view, here: back }, form, c)
          if ('response' in outcome) return outcome.response
          if ('page' in outcome) return c.html(outcome.page as string, (outcome.status ?? 200) as 200)
          const to = outcome.back ?? back
          return c.redirect(outcome.notice ? withMessage(to, 'notice', outcome.notice) : to, 303)
        } catch (error) {
          // the domain's own message, as the API would answer it
          if (error instanceof ApiError) return c.redirect(withMessage(back, 'error', error.message), 303)
          throw error
        }
      })
    },
  }
}

/** A browser's Origin, when it sends one, must be this server's (SameSite cookies do the rest). */
function sameOrigin(c: Context<AppEnv>): boolean {
  const origin = c.req.header('origin')
  if (!origin || origin === 'null') return origin !== 'null'
  return origin === new URL(c.req.url).origin || new URL(origin).host === c.req.header('host')
}

/** One value of a form field (the first, when it came several times). */
export function field(form: Form, name: string): string {
  const value = form[name]
  const one = Array.isArray(value) ? value[0] : value
  return typeof one === 'string' ? one.trim() : ''
}

/** Every value of a repeated form field (checkboxes). */
export function fields(form: Form, name: string): string[] {
  const value = form[name]
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((v): v is string => typeof v === 'string')
}
