import { expect, it } from 'vitest'
import { StoreUnavailableError } from '../errors.js'
import { isConnectionFailure, unavailableOr } from './unavailable.js'

const coded = (message: string, code: string) => Object.assign(new Error(message), { code })

it('tells a store that went away from a statement that failed', () => {
  const outage = [
    coded('terminating connection due to administrator command', '57P01'),
    coded('the database system is shutting down', '57P03'),
    coded('the database system is starting up', '57P03'),
    coded('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
    coded('read ECONNRESET', 'ECONNRESET'),
    coded('connection failure', '08006'),
    new Error('Connection terminated unexpectedly'),
    new Error('timeout exceeded when trying to connect'),
    new Error('Client has encountered a connection error and is not queryable'),
    new Error("Stream isn't writeable and enableOfflineQueue options is false"),
    new Error('Command timed out'),
    new Error('wrapped', { cause: coded('connect ECONNREFUSED', 'ECONNREFUSED') }),
  ]
  for (const error of outage) expect(isConnectionFailure(error), error.message).toBe(true)
  const statements = [
    coded('duplicate key value violates unique constraint', '23505'),
    coded('relation "x" does not exist', '42P01'),
    coded('canceling statement due to statement timeout', '57014'),
    new Error('ERR Error running script'),
    'a string',
    undefined,
  ]
  for (const error of statements) expect(isConnectionFailure(error), String(error)).toBe(false)
})

it('wraps an outage as StoreUnavailableError, with its cause; other errors pass through', () => {
  const cut = coded('terminating connection due to administrator command', '57P01')
  const wrapped = unavailableOr(cut, 'database') as StoreUnavailableError
  expect(wrapped).toBeInstanceOf(StoreUnavailableError)
  expect(wrapped.cause).toBe(cut)
  expect(wrapped.message).toBe('the database is unavailable: terminating connection due to administrator command')
  expect(unavailableOr(wrapped, 'database')).toBe(wrapped)
  const duplicate = coded('duplicate key', '23505')
  expect(unavailableOr(duplicate, 'database')).toBe(duplicate)
})
