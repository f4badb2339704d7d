import path from 'node:path'

const BY_EXTENSION: Record<string, string> = {
  txt: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  html: 'text/html',
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
}

const GENERIC = 'application/octet-stream'

/**
 * The content type a file is downloaded with: the type the client declared (an Upload's
 * mime_type, a form part's Content-Type) when it says more than "bytes", else one known from the
 * extension, else application/octet-stream.
 *
 * JSON and JSONL go out as application/octet-stream, as OpenAI sends batch and fine-tuning files:
 * a client (the SDKs' JSON handling, Faraday...) seeing a JSON type would parse a JSONL body and
 * fail, and the spec's `application/json` string schema for this response fits no real file.
 */
export function downloadContentType(filename: string, declared: string | null): string {
  const type = declared?.split(';')[0].trim().toLowerCase()
  const chosen =
    type && type !== GENERIC ? type : BY_EXTENSION[path.extname(filename).slice(1).toLowerCase()]
  if (!chosen || chosen.includes('json')) return GENERIC
  return chosen
}

/** `attachment` with the filename, ASCII-safe and in RFC 5987 form for everything else. */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_')
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`
}
