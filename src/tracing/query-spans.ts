import { context, SpanKind, trace, type Attributes, type Tracer } from '@opentelemetry/api'
import type { LogEvent } from 'kysely'
import { failSpan } from './spans.js'

/**
 * Storage spans: Kysely's log hook (set only when tracing is on) turns each statement run inside
 * a traced, still-open span into a CLIENT span with the database semantic conventions
 * (db.system.name, db.operation.name, db.collection.name, db.query.text: the parameterised SQL,
 * never its values). Statements outside a request (the job runner's polls, sweeps) make no span:
 * they would be a trace each, every few seconds. The usage flush is a span of its own (usage.ts),
 * since on SQLite it runs its statements outside Kysely.
 */

const MAX_QUERY_TEXT = 2000
const OPERATION = /^\s*(\w+)/
const TABLE = /\b(?:from|into|update|join)\s+"?(?:\w+"?\."?)?(\w+)"?/i

export function queryLog(tracer: Tracer, dialect: string) {
  const system = dialect === 'postgres' ? 'postgresql' : dialect
  return (event: LogEvent) => {
    const parent = context.active()
    if (!trace.getSpan(parent)?.isRecording()) return
    const sql = event.query.sql
    const operation = OPERATION.exec(sql)?.[1]?.toUpperCase()
    const table = TABLE.exec(sql)?.[1]
    const attributes: Attributes = {
      'db.system.name': system,
      'db.query.text': sql.length > MAX_QUERY_TEXT ? sql.slice(0, MAX_QUERY_TEXT) : sql,
    }
    if (operation) attributes['db.operation.name'] = operation
    if (table) attributes['db.collection.name'] = table
    // Kysely reports a statement once it has run: the span starts when it did
    const now = performance.now()
    const span = tracer.startSpan(
      [operation, table].filter(Boolean).join(' ') || system,
      { kind: SpanKind.CLIENT, attributes, startTime: performance.timeOrigin + now - event.queryDurationMillis },
      parent,
    )
    if (event.level === 'error') failSpan(span, event.error)
    span.end(performance.timeOrigin + now)
  }
}
