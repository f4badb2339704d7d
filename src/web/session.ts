import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import path from 'node:path'
import type { Context } from 'hono'
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie'
import type { Config } from '../config/schema.js'
import { readOrCreateSecret } from '../config/secret-file.js'

const COOKIE = 'plinth_session'

/** The cookie-signing secret: from config, or made once and kept (0600) in the data directory. */
export function sessionSecret(config: Config): string {
  if (config.dashboard.sessionSecret) return config.dashboard.sessionSecret
  return readOrCreateSecret(path.join(config.dataDir, 'dashboard.secret'))
}

export function hashKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}

/**
 * A session holds the admin key's hash (never the key), signed, with its expiry. Each request
 * looks the hash up again, so deleting the key ends its sessions at once.
 */
export async function startSession(c: Context, secret: string, keyHash: string, ttlSeconds: number, secure = false) {
  const expires = Math.floor(Date.now() / 1000) + ttlSeconds
  // a nonce per sign-in: each session gets its own CSRF token, even two in the same second
  const nonce = randomBytes(12).toString('base64url')
  await setSignedCookie(c, COOKIE, `${keyHash}.${expires}.${nonce}`, secret, {
    httpOnly: true,
    sameSite: 'Strict',
    path: '/dashboard',
    maxAge: ttlSeconds,
    // signed in over https (directly or through a trusted proxy): the cookie never travels in clear
    secure,
  })
}

export type Session = { keyHash: string; csrf: string }

/** The signed-in session, with its CSRF token, or undefined. */
export async function readSession(c: Context, secret: string): Promise<Session | undefined> {
  const value = await getSignedCookie(c, secret, COOKIE)
  if (!value) return undefined
  const [hash, expires] = value.split('.')
  if (!hash || Number(expires) < Date.now() / 1000) return undefined
  return { keyHash: hash, csrf: csrfToken(secret, value) }
}

/**
 * The session's CSRF token: an HMAC of its cookie value, so it needs no storage, differs per
 * session, and cannot be made without the secret. Every dashboard form carries it.
 */
export function csrfToken(secret: string, cookieValue: string): string {
  return createHmac('sha256', secret).update(`csrf:${cookieValue}`).digest('base64url')
}

export function sameToken(given: unknown, expected: string): boolean {
  if (typeof given !== 'string' || given.length !== expected.length) return false
  return timingSafeEqual(Buffer.from(given), Buffer.from(expected))
}

export function endSession(c: Context) {
  deleteCookie(c, COOKIE, { path: '/dashboard' })
}
