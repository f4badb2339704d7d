import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminClient } from '../helpers/admin.js'
import { signIn as dashboardSession } from '../helpers/dashboard.js'
import { ADMIN_KEY, createTestApp, PROJECT_KEY, type TestApp } from '../helpers/test-context.js'

// Dashboard sign-ins and sign-outs are the Administration API's login.* and logout.* events.

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => t.close())

const signIn = (key: string) =>
  t.app.request('/dashboard/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ key }).toString(),
  })

describe('dashboard sessions in the audit log', () => {
  it('records login.succeeded, login.failed and logout.succeeded with the person as a session actor', async () => {
    expect((await signIn('sk-admin-not-a-real-key-000000000')).status).toBe(401)
    expect((await signIn(PROJECT_KEY)).status).toBe(403)
    const session = await dashboardSession(t)
    await session.post('/dashboard/logout')

    const admin = adminClient(t)
    const entries = (
      await admin.admin.organization.auditLogs.list({
        event_types: ['login.succeeded', 'login.failed', 'logout.succeeded'],
      })
    ).data as any[]
    expect(entries.map((e) => e.type)).toEqual([
      'logout.succeeded',
      'login.succeeded',
      'login.failed',
      'login.failed',
    ])
    const owner = { id: expect.stringMatching(/^user-/), email: 'owner@localhost' }
    expect(entries[0].actor).toEqual({
      type: 'session',
      session: { user: owner, ip_address: expect.any(String) },
    })
    expect(entries[1]['login.succeeded']).toEqual({ api_key_id: expect.stringMatching(/^key_/) })
    // a project key is a known key: its owner is named; an unknown key names nobody
    expect(entries[2]['login.failed']).toEqual({
      error_code: 'insufficient_permissions',
      error_message: 'Use an admin key (sk-admin-…); project keys cannot sign in.',
    })
    expect(entries[2].actor.session.user).toEqual(owner)
    expect(entries[3]['login.failed']).toEqual({
      error_code: 'invalid_api_key',
      error_message: 'That key is not valid.',
    })
    expect(entries[3].actor).toEqual({
      type: 'session',
      session: { ip_address: expect.any(String) },
    })
    expect(JSON.stringify(entries)).not.toContain(ADMIN_KEY)
  })
})
