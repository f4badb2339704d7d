import pino from 'pino'
import { prettyFactory } from 'pino-pretty'

/** Secrets never reach the logs: auth headers and keys are redacted wherever they appear. */
const redact = {
  paths: ['req.headers.authorization', 'headers.authorization', '*.apiKey', '*.key', 'key', 'apiKey', '*.secret'],
  censor: '[redacted]',
}

export type LogFormat = 'auto' | 'json' | 'pretty'

/**
 * Where lines go: JSON to stdout, or (on a terminal, or when asked) coloured single lines by
 * pino-pretty. A sink object rather than a stream fixed at import, because the format comes from
 * config, which is read after the loggers exist.
 */
let prettify: ((line: string) => string) | undefined
const sink = {
  write(line: string) {
    process.stdout.write(prettify ? prettify(line) : line)
  },
}

// The level comes from config at boot (setLogLevel); tests silence it in test/helpers/setup.ts.
export const rootLog = pino({ level: 'info', redact }, sink)

export function setLogLevel(level: string) {
  rootLog.level = level
}

export function setLogFormat(format: LogFormat, isTTY = Boolean(process.stdout.isTTY)) {
  const pretty = format === 'pretty' || (format === 'auto' && isTTY)
  prettify = pretty ? prettyFactory({ colorize: isTTY, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true }) : undefined
}

export const apiLog = rootLog.child({ log: 'api' })
export const jobLog = rootLog.child({ log: 'jobs' })
export const dbLog = rootLog.child({ log: 'db' })
export const providerLog = rootLog.child({ log: 'provider' })
export const bootLog = rootLog.child({ log: 'boot' })
/** One line per HTTP request (http/observe.ts); `log.access: false` turns it off. */
export const accessLog = rootLog.child({ log: 'access' })
