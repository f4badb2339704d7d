import type { Hono } from 'hono'
import type { AppContext } from '../context.js'
import type { AppEnv } from '../http/env.js'
import { clientAddress, clientOrigin } from '../http/forwarded.js'
import { createDash } from './dash.js'
import { LoginThrottle } from './login-throttle.js'
import { assistantsRoutes } from './pages/assistants.js'
import { auditRoutes } from './pages/audit.js'
import { batchesRoutes } from './pages/batches.js'
import { loginPage } from './pages/login.js'
import { modelsRoutes } from './pages/models.js'
import { overviewRoutes } from './pages/overview.js'
import { playgroundRoutes } from './pages/playground.js'
import { projectRoutes } from './pages/project.js'
import { projectsRoutes } from './pages/projects.js'
import { requestsRoutes } from './pages/requests.js'
import { usageRoutes } from './pages/usage.js'
import { usersRoutes } from './pages/users.js'
import { endSession, hashKey, readSession, sameToken, sessionSecret, startSession } from './session.js'

/**
 * The web dashboard: server-rendered pages (hono/jsx) that call the domain services directly, so
 * every change it makes is checked and audit-logged as the Administration API's. Sign-in takes an
 * admin key; the session cookie holds its hash, signed, never the key. Every POST carries the
 * session's CSRF token (dash.tsx).
 */
export function mountDashboard(app: Hono<AppEnv>, ctx: AppContext) {
  if (!ctx.config.dashboard.enabled) return
  const secret = sessionSecret(ctx.config)
  const throttle = new LoginThrottle()
  const adminFor = async (hash: string) => {
    const principal = await ctx.services.keys.principalForHash(hash)
    return principal?.kind === 'admin' ? principal : undefined
  }
  const dash = createDash(app, secret, adminFor)

  app.get('/dashboard/login', (c) => c.html(loginPage()))
  app.post('/dashboard/login', async (c) => {
    const ip = clientAddress(c, ctx.config.server.trustProxy)
    const address = ip ?? 'in-process'
    const wait = throttle.retryAfter(address)
    if (wait) {
      c.header('retry-after', String(wait))
      return c.html(loginPage(`Too many failed sign-ins. Try again in ${wait} s.`), 429)
    }
    const form = await c.req.parseBody()
    const key = typeof form.key === 'string' ? form.key.trim() : ''
    const principal = key ? await ctx.services.keys.principalForHash(hashKey(key)) : undefined
    // sign-ins and sign-outs go to the audit log (login.* and logout.* events)
    const { sessions } = ctx.services.admin
    if (!principal) {
      throttle.failed(address)
      await sessions.loginFailed(ctx.organization.id, { code: 'invalid_api_key', message: 'That key is not valid.' }, undefined, ip)
      return c.html(loginPage('That key is not valid.'), 401)
    }
    if (principal.kind !== 'admin') {
      throttle.failed(address)
      const message = 'Use an admin key (sk-admin-…); project keys cannot sign in.'
      await sessions.loginFailed(principal.orgId, { code: 'insufficient_permissions', message }, principal, ip)
      return c.html(loginPage(message), 403)
    }
    throttle.succeeded(address)
    const secure = clientOrigin(c, ctx.config.server.trustProxy).startsWith('https:')
    await startSession(c, secret, hashKey(key), ctx.config.dashboard.sessionTtlSeconds, secure)
    await sessions.loginSucceeded(principal, ip)
    return c.redirect('/dashboard', 303)
  })
  app.post('/dashboard/logout', async (c) => {
    const session = await readSession(c, secret)
    const principal = session ? await adminFor(session.keyHash) : undefined
    // a sign-out from another site's form is refused: it would end the session (and audit it)
    if (session && !sameToken((await c.req.parseBody())._csrf, session.csrf)) return c.redirect('/dashboard', 303)
    endSession(c)
    if (principal) await ctx.services.admin.sessions.logoutSucceeded(principal, clientAddress(c, ctx.config.server.trustProxy))
    return c.redirect('/dashboard/login', 303)
  })
  for (const routes of [
    overviewRoutes,
    usageRoutes,
    requestsRoutes,
    projectsRoutes,
    projectRoutes,
    usersRoutes,
    batchesRoutes,
    assistantsRoutes,
    playgroundRoutes,
    modelsRoutes,
    auditRoutes,
  ]) {
    routes(dash, ctx)
  }
}
