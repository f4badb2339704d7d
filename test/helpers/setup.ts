import { afterAll, afterEach } from 'vitest'
import { setLogLevel } from '../../src/logger.js'
import { assertNoSpecViolations } from './spec-violations.js'

setLogLevel(process.env.PLINTH_TEST_LOG_LEVEL ?? 'silent')

// Every response fetched through a test app is checked against the OpenAI spec; a violation
// fails the test that caused it. Requests made in beforeAll are charged to the first test, and
// the afterAll check catches those made in afterAll hooks.
afterEach(() => assertNoSpecViolations())
afterAll(() => assertNoSpecViolations())
