/** Why a file's bytes could not be read: OpenAI's `last_error` codes. */
export class ExtractError extends Error {
  override name = 'ExtractError'
  constructor(
    readonly code: 'unsupported_file' | 'invalid_file',
    message: string,
  ) {
    super(message)
  }
}

/**
 * Bytes of a text file → its text: UTF-8, or UTF-16 when it starts with a byte-order mark.
 * Anything else (NUL bytes, byte sequences that are not UTF-8) is a binary file under a text
 * name, which is an invalid file rather than text full of replacement characters.
 */
export function decodeText(bytes: Uint8Array, filename: string): string {
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
    const le = bytes[0] === 0xff
    try {
      return new TextDecoder(le ? 'utf-16le' : 'utf-16be', { fatal: true }).decode(bytes.subarray(2))
    } catch {
      throw notText(filename)
    }
  }
  if (bytes.includes(0)) throw notText(filename)
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)
  } catch {
    throw notText(filename)
  }
}

function notText(filename: string) {
  return new ExtractError(
    'invalid_file',
    `The file ${filename} could not be read as text: it is not UTF-8 or UTF-16 text (it looks like a binary file).`,
  )
}

/**
 * Text as chunks should hold it: no NUL or other control characters (PostgreSQL's text type takes
 * no NUL), line ends as \n, runs of blank lines and trailing spaces collapsed.
 */
export function cleanText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
}
