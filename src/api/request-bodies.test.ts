import { describe, expect, it } from 'vitest'
import { JsonText } from '../pacing.js'
import type { Principal } from '../principal.js'
import type { RequestRecord } from '../request-context.js'
import { keepBodies } from './request-bodies.js'

describe('keepBodies', () => {
  it('reads the answer of an upstream answer kept as its JSON text', () => {
    const record: RequestRecord = { startedAt: 0, inputTokens: 0, outputTokens: 0 }
    const principal: Principal = { orgId: 'org', projectId: 'proj', keyId: 'key', kind: 'project', permissions: { mode: 'all' }, logBodies: true, request: record }
    const answer = new JsonText(JSON.stringify({ object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'the answer' } }] }))
    const outcome = keepBodies(principal, { messages: [{ role: 'user', content: 'the prompt' }] }, { json: answer })
    expect(outcome).toEqual({ json: answer })
    expect(record.bodies?.prompt.text).toBe('user: the prompt')
    expect(record.bodies?.answer.body().text).toBe('the answer')
  })
})
