import { setLogLevel } from '../../src/logger.js'

setLogLevel(process.env.PLINTH_TEST_LOG_LEVEL ?? 'silent')
