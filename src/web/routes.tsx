import type { Context, Hono } from 'hono'
import type { AppContext } from '../context.js'
import type { AppEnv } from '../http/env.js'
import { nodeBindings } from '../http/node-request.js'
import type { Principal } from '../principal.js'
import { loginPage, playgroundPage } from './pages/forms.js'
import { auditPage, batchesPage, modelsPage, projectsPage } from './pages/lists.js'
import { overviewPage } from './pages/overview.js'
import { LoginThrottle } from './login-throttle.js'
import { endSession, hashKey, sessionKeyHash, sessionSecret, startSession } from './session.js'

/**
 * The web dashboard: server-rendered pages (hono/jsx) that call the domain services directly.
 * Sign-in takes an admin key; the session cookie holds its hash, signed, never the key.
 */
export function mountDashboard(app: Hono<AppEnv>, ctx: AppContext) {
  if (!ctx.config.dashboard.enabled) return
  const secret = sessionSecret(ctx.config)
  const throttle = new LoginThrottle()

  async function admin(c: Context<AppEnv>): Promise<Principal | undefined> {
    const hash = await sessionKeyHash(c, secret)
    const principal = hash ? await ctx.services.keys.principalForHash(hash) : undefined
    return principal?.kind === 'admin' ? principal : undefined
  }

  const page =
    (render: (admin: Principal) => unknown) =>
    async (c: Context<AppEnv>) => {
      const principal = await admin(c)
      if (!principal) return c.redirect('/dashboard/login', 303)
      return c.html(await (render(principal) as Promise<string>))
    }

  app.get('/dashboard/login', (c) => c.html(loginPage()))
  app.post('/dashboard/login', async (c) => {
    const ip = nodeBindings(c)?.incoming.socket.remoteAddress
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
    await startSession(c, secret, hashKey(key), ctx.config.dashboard.sessionTtlSeconds)
    await sessions.loginSucceeded(principal, ip)
    return c.redirect('/dashboard', 303)
  })
  app.post('/dashboard/logout', async (c) => {
    const principal = await admin(c)
    endSession(c)
    if (principal) await ctx.services.admin.sessions.logoutSucceeded(principal, nodeBindings(c)?.incoming.socket.remoteAddress)
    return c.redirect('/dashboard/login', 303)
  })
  app.get('/dashboard', page(() => overviewPage(ctx)))
  app.get('/dashboard/projects', page((p) => projectsPage(ctx, p)))
  app.get('/dashboard/batches', page((p) => batchesPage(ctx, p)))
  app.get('/dashboard/models', page(() => modelsPage(ctx)))
  app.get('/dashboard/audit', page((p) => auditPage(ctx, p)))
  app.get('/dashboard/playground', page(() => playgroundPage(ctx)))
}
