/** One part of a hand-built multipart/form-data body: a field, or a file when it has a filename. */
export type Part = { name: string; value: string | Uint8Array; filename?: string; contentType?: string }

export const BOUNDARY = 'fuzzboundary'

/**
 * A multipart/form-data body written byte by byte (not with FormData), so that the fuzz test can
 * send names, filenames and part types no well-behaved client would.
 */
export function multipartBody(parts: Part[], boundary = BOUNDARY): { body: Uint8Array; contentType: string } {
  const chunks: Buffer[] = []
  for (const part of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"`
    if (part.filename !== undefined) head += `; filename="${part.filename}"`
    head += '\r\n'
    if (part.contentType) head += `Content-Type: ${part.contentType}\r\n`
    chunks.push(Buffer.from(head + '\r\n'), Buffer.from(part.value), Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { body: new Uint8Array(Buffer.concat(chunks)), contentType: `multipart/form-data; boundary=${boundary}` }
}
