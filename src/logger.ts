import pino from 'pino'

/** Secrets never reach the logs: auth headers and keys are redacted wherever they appear. */
const redact = {
  paths: ['req.headers.authorization', 'headers.authorization', '*.apiKey', '*.key', 'key', 'apiKey', '*.secret'],
  censor: '[redacted]',
}

// The level comes from config at boot (setLogLevel); tests silence it in test/helpers/setup.ts.
export const rootLog = pino({ level: 'info', redact })

export function setLogLevel(level: string) {
  rootLog.level = level
}

export const apiLog = rootLog.child({ log: 'api' })
export const jobLog = rootLog.child({ log: 'jobs' })
export const dbLog = rootLog.child({ log: 'db' })
export const providerLog = rootLog.child({ log: 'provider' })
export const bootLog = rootLog.child({ log: 'boot' })
