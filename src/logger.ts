import os from 'node:os'
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
    // the access lines held for this turn go first, so that lines keep their order
    if (held) flushAccessLines()
    process.stdout.write(prettify ? prettify(line) : line)
  },
}

/**
 * Access lines (one per request) held until the end of the event-loop turn and written together:
 * stdout on a pipe or file is a synchronous write(2) per call, which at one line per request was
 * the costliest system call of a proxied request after the socket's own. Any other log line, and
 * the process's exit, write what is held first.
 */
let held = ''
let flushScheduled = false
const ACCESS_FLUSH_AT = 64 * 1024

function flushAccessLines() {
  flushScheduled = false
  if (!held) return
  const text = held
  held = ''
  process.stdout.write(text)
}
process.on('exit', flushAccessLines)

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

const hostname = JSON.stringify(os.hostname())

/**
 * Writes one access line as `accessLog.info(fields, msg)` would, byte for byte, without pino's
 * generic path (bindings, redaction, a serializer per field), which cost about 13 µs a request.
 * The fields are the access log's own (no secrets, nothing to redact); undefined ones are left
 * out, as pino does. The line waits for the end of the turn (flushAccessLines above).
 */
export function writeAccessLine(fields: Record<string, string | number | undefined>, msg: string) {
  if (!accessLog.isLevelEnabled('info')) return
  const body = JSON.stringify(fields)
  const json = `{"level":30,"time":${Date.now()},"pid":${process.pid},"hostname":${hostname},"log":"access",${body.length > 2 ? body.slice(1, -1) + ',' : ''}"msg":${JSON.stringify(msg)}}\n`
  held += prettify ? prettify(json) : json
  if (held.length >= ACCESS_FLUSH_AT) flushAccessLines()
  else if (!flushScheduled) {
    flushScheduled = true
    setImmediate(flushAccessLines)
  }
}
