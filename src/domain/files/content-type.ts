import path from 'node:path'
import { lookup } from 'mime-types'

const GENERIC = 'application/octet-stream'

// mime-db's `.ts` is an MPEG transport stream; the .ts files assistants get are TypeScript
const OVERRIDES: Record<string, string> = { '.ts': 'application/typescript' }

/** The registered type of a name's extension (mime-db), or undefined; a bare `png` has none. */
export function typeOfExtension(filename: string): string | undefined {
  const extension = path.extname(filename).toLowerCase()
  return (extension && (OVERRIDES[extension] ?? lookup(extension))) || undefined
}

/**
 * The content type a file is downloaded with: the type the client declared (an Upload's
 * mime_type, a form part's Content-Type) when it says more than "bytes", else one known from the
 * extension (mime-db, through mime-types), else application/octet-stream.
 *
 * JSON and JSONL go out as application/octet-stream, as OpenAI sends batch and fine-tuning files:
 * a client (the SDKs' JSON handling, Faraday...) seeing a JSON type would parse a JSONL body and
 * fail, and the spec's `application/json` string schema for this response fits no real file.
 */
export function downloadContentType(filename: string, declared: string | null): string {
  const type = declared?.split(';')[0].trim().toLowerCase()
  const chosen = type && type !== GENERIC ? type : typeOfExtension(filename)
  if (!chosen || chosen.includes('json')) return GENERIC
  return chosen
}

/** `attachment` with the filename, ASCII-safe and in RFC 5987 form for everything else. */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_')
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`
}

/** The type of an image file by its extension, for a data URL; PNG when the name says no image type. */
export function imageContentType(filename: string): string {
  const type = typeOfExtension(filename)
  return type?.startsWith('image/') ? type : 'image/png'
}
