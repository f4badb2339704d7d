import { Readable } from 'node:stream'
import busboy from 'busboy'
import { ApiError, bodyTooLarge, invalidMultipart, unexpectedFormField } from '../errors.js'
import { hasReplacedOrUnpaired } from '../schemas/json-text.js'

export type FormFileInfo = { field: string; filename: string; contentType: string }

export type FormFile<T> = FormFileInfo & { value: T }

export type MultipartOptions<T> = {
  /**
   * The fields that carry bytes, and the most bytes each may carry (413 past it); `repeat`: how
   * many times the field may come (`image[]` arrays), once if unset.
   */
  files: Record<string, { limit: number; repeat?: number }>
  /** The plain text fields accepted; any other field is a 400. */
  fields: readonly string[]
  /** Consumes one file's bytes as they arrive (writes them to a temporary blob). */
  receive(data: AsyncIterable<Uint8Array>, info: FormFileInfo): Promise<T>
  /** Undoes `receive` for files already received when the request as a whole fails. */
  release(value: T): Promise<void>
  /**
   * Aborts when the client goes away. On Node the web body of a request whose client vanished
   * mid-body may never end nor fail, which held the handler and its temporary blob forever.
   */
  signal?: AbortSignal
  /**
   * Longer text fields than the default 64 KiB: the field names and their most bytes (each value
   * is held in memory, so keep these few and small). The body may be that much larger.
   */
  longFields?: Record<string, { bytes: number; repeat: number }>
}

export type MultipartForm<T> = {
  fields: Record<string, string>
  files: FormFile<T>[]
  /** Fields named `name[]` (arrays, as the SDKs send them): every value, in order. */
  lists: Record<string, string[]>
}

const MAX_FIELD_BYTES = 64 * 1024
const MAX_PARTS = 64

/**
 * Streams a multipart/form-data body: each file goes to `receive` chunk by chunk, with the
 * request read only as fast as `receive` consumes it, so no file is ever held in memory. A file
 * over its limit fails the request with OpenAI's 413 (F4) as soon as the limit is crossed.
 * Whatever fails (a malformed body, a limit, the client going away), files already received are
 * released before the error is thrown.
 */
export async function readMultipart<T>(
  request: Request,
  options: MultipartOptions<T>,
): Promise<MultipartForm<T>> {
  const contentType = request.headers.get('content-type') ?? ''
  if (!/^multipart\/form-data/i.test(contentType)) {
    throw invalidMultipart(
      `expected a multipart/form-data body, got ${contentType ? `'${contentType}'` : 'no content type'}`,
    )
  }
  const declared = Number(request.headers.get('content-length') ?? NaN)
  const long = options.longFields ?? {}
  const total =
    Object.values(options.files).reduce((n, f) => n + f.limit * (f.repeat ?? 1), 0) +
    Object.values(long).reduce((n, f) => n + f.bytes * f.repeat, 0)
  const fieldSize = Math.max(MAX_FIELD_BYTES, ...Object.values(long).map((f) => f.bytes))
  // form fields and boundaries add a little to the files; far more than that is refused unread
  if (declared > total + 1024 * 1024) throw bodyTooLarge(total, declared)

  let parser: busboy.Busboy
  try {
    parser = busboy({
      headers: { 'content-type': contentType },
      // names and filenames are UTF-8, as browsers, undici and httpx send them (busboy's default,
      // latin1, stored `résumé.pdf` as `rÃ©sumÃ©.pdf`)
      defParamCharset: 'utf8',
      limits: { fieldSize, parts: MAX_PARTS, headerPairs: 32 },
    })
  } catch (error) {
    throw invalidMultipart((error as Error).message.replace(/\.$/, '').toLowerCase())
  }

  const form: MultipartForm<T> = { fields: {}, files: [], lists: {} }
  const seen = new Map<string, number>()
  const once = (field: string) => {
    const count = (seen.get(field) ?? 0) + 1
    seen.set(field, count)
    return count <= (options.files[field]?.repeat ?? 1)
  }
  const receiving: Promise<void>[] = []
  const reader = request.body?.getReader()
  let failure: unknown
  // the file streams still open: a failed request ends them with an error, so their consumers stop
  const open = new Set<Readable>()
  // Whatever the pump below waits for, a failure must end the wait. Racing each wait against one
  // long-lived "failed" promise would not do: every race leaves a reaction on it that holds the
  // race's result, and so every chunk of the body, until the request ends.
  let wake = () => {}
  const fail = (error: unknown) => {
    if (failure !== undefined) return
    failure = error
    wake()
    reader?.cancel().catch(() => {}) // a pending read returns at once
    // busboy, given no more of the body, leaves the file it was writing neither ended nor failed
    // (a client gone mid-file): its consumer would wait, holding a temporary blob, forever
    for (const stream of open) stream.destroy(new Error('the request failed before this file was complete'))
  }
  const onAbort = () => fail(invalidMultipart('the request body could not be read to its end'))
  if (options.signal?.aborted) onAbort()
  else options.signal?.addEventListener('abort', onAbort, { once: true })
  let closed = false
  const waitFor = (event: 'drain' | 'close') =>
    new Promise<void>((resolve) => {
      const done = () => {
        parser.off(event, done)
        wake = () => {}
        resolve()
      }
      if (failure !== undefined || (event === 'close' && closed)) return resolve()
      wake = done
      parser.on(event, done)
    })

  parser.on('file', (field: string, stream: Readable, info: busboy.FileInfo) => {
    // a cut-off body errors the file stream too; the consumer sees it, or has already stopped
    stream.on('error', () => {})
    open.add(stream)
    stream.once('close', () => open.delete(stream))
    const notText = notUtf8(field, 'name') ?? notUtf8(info.filename ?? '', 'filename')
    if (notText) {
      stream.resume()
      return fail(notText)
    }
    const spec = options.files[field]
    if (!spec || failure !== undefined || !once(field)) {
      stream.resume()
      if (failure === undefined)
        fail(
          spec
            ? invalidMultipart(`the field '${field}' was sent twice`)
            : unexpectedFormField(field),
        )
      return
    }
    const file: FormFileInfo = { field, filename: info.filename ?? '', contentType: info.mimeType }
    receiving.push(
      options.receive(limitBytes(stream, spec.limit), file).then(
        (value) => void form.files.push({ ...file, value }),
        (error) => {
          stream.resume()
          fail(error)
        },
      ),
    )
  })
  parser.on('field', (field: string, value: string, info: busboy.FieldInfo) => {
    if (failure !== undefined) return
    const notText = notUtf8(field, 'name') ?? notUtf8(value, 'value', field)
    if (notText) return fail(notText)
    if (options.files[field]) {
      // a file field sent as plain text (`curl -F data=...`): its text is the bytes
      if (!once(field)) return fail(invalidMultipart(`the field '${field}' was sent twice`))
      if (info.valueTruncated) return fail(bodyTooLarge(fieldSize, fieldSize))
      const file: FormFileInfo = { field, filename: '', contentType: 'application/octet-stream' }
      receiving.push(
        options
          .receive(
            limitBytes(Readable.from([Buffer.from(value, 'utf8')]), options.files[field].limit),
            file,
          )
          .then((received) => void form.files.push({ ...file, value: received }), fail),
      )
      return
    }
    if (!options.fields.includes(field)) return fail(unexpectedFormField(field))
    // busboy cuts at the largest limit; the others are checked here
    const most = long[field]?.bytes ?? MAX_FIELD_BYTES
    if (info.valueTruncated || Buffer.byteLength(value, 'utf8') > most)
      return fail(invalidMultipart(`the field '${field}' is longer than ${most} bytes`))
    if (long[field] && (form.lists[field]?.length ?? 0) >= long[field].repeat)
      return fail(invalidMultipart(`the field '${field}' was sent more than ${long[field].repeat} times`))
    if (field.endsWith('[]')) return void (form.lists[field] ??= []).push(value)
    if (field in form.fields) return fail(invalidMultipart(`the field '${field}' was sent twice`))
    form.fields[field] = value
  })
  parser.on('partsLimit', () => fail(invalidMultipart(`more than ${MAX_PARTS} parts`)))
  parser.on('error', (error: Error) =>
    fail(invalidMultipart(error.message.replace(/\.$/, '').toLowerCase())),
  )
  parser.on('close', () => (closed = true))

  try {
    if (!reader) throw invalidMultipart('the body is empty')
    while (failure === undefined) {
      const next = await reader.read()
      if (next.done) break
      // backpressure: busboy says stop while a file's consumer is behind
      if (!parser.write(next.value)) await waitFor('drain')
    }
    if (failure === undefined) {
      const parsed = waitFor('close')
      parser.end()
      await parsed
    }
    await Promise.all(receiving)
  } catch (error) {
    // the body itself failed: the client went away, or sent something unreadable
    fail(
      error instanceof ApiError
        ? error
        : invalidMultipart('the request body could not be read to its end'),
    )
  }
  options.signal?.removeEventListener('abort', onAbort)
  if (failure !== undefined) {
    parser.destroy()
    await Promise.allSettled(receiving)
    await Promise.allSettled(form.files.map((f) => options.release(f.value)))
    throw failure
  }
  return form
}

/**
 * busboy decodes names, filenames and text values as UTF-8 with replacement: a U+FFFD (or an
 * unpaired surrogate, from a part in another charset) marks bytes that were not text, and
 * keeping it would store something the client never sent. A literal U+FFFD is refused too: it
 * cannot be told apart here, and is itself the trace of an earlier lossy decoding.
 */
function notUtf8(
  text: string,
  what: 'name' | 'filename' | 'value',
  field?: string,
): ApiError | undefined {
  if (!hasReplacedOrUnpaired(text)) return undefined
  const where = what === 'value' ? `the value of the field '${field}'` : `a part's ${what}`
  return invalidMultipart(`${where} is not valid UTF-8`)
}

/** Passes the bytes on, failing with F4 once more than `limit` have been read. */
async function* limitBytes(
  source: AsyncIterable<Uint8Array>,
  limit: number,
): AsyncIterable<Uint8Array> {
  let read = 0
  for await (const chunk of source) {
    read += chunk.byteLength
    if (read > limit) throw bodyTooLarge(limit, read)
    yield chunk
  }
}

/** `a[b]` field names → nested objects: the SDKs send an object in a form that way. */
export function nestFields(fields: Record<string, string>): Record<string, unknown> {
  const out: Record<string, any> = {}
  for (const [key, value] of Object.entries(fields)) {
    const nested = /^([^[\]]+)\[([^[\]]+)\]$/.exec(key)
    if (!nested) out[key] = value
    // `x=...` beside `x[k]=...`: the plain value stays, and validation calls it the wrong type
    // (setting a key on a string would throw, a 500)
    else if (typeof out[nested[1]] !== 'string') (out[nested[1]] ??= {})[nested[2]] = value
  }
  return out
}
