import { utf8Text } from '../../schemas/json-text.js'

/**
 * One line of a JSONL stream: its text, or only its size when it is over the limit, or neither
 * when its bytes are not UTF-8 (a line that cannot be JSON).
 */
export type JsonlLine =
  | { lineNo: number; text: string; tooLarge?: undefined }
  | { lineNo: number; text?: undefined; tooLarge: number }
  | { lineNo: number; text?: undefined; tooLarge?: undefined }

const NEWLINE = 0x0a

/**
 * Splits a byte stream into lines (1-based numbers, `\n` or `\r\n` endings), decoding each as
 * UTF-8. A line longer than `maxLineBytes` is not kept in memory: it is reported with its size,
 * so a file of any size is read with at most one line held at a time.
 */
export async function* jsonlLines(
  source: AsyncIterable<Uint8Array>,
  maxLineBytes: number,
): AsyncGenerator<JsonlLine> {
  let lineNo = 1
  let pieces: Buffer[] = []
  let size = 0
  let tooLarge = false
  const take = (piece: Buffer) => {
    size += piece.length
    if (tooLarge) return
    if (size > maxLineBytes) {
      tooLarge = true
      pieces = []
    } else pieces.push(piece)
  }
  const end = (): JsonlLine => {
    const text = tooLarge ? undefined : decodeLine(pieces.length === 1 ? pieces[0] : Buffer.concat(pieces))
    const line: JsonlLine = tooLarge
      ? { lineNo, tooLarge: size }
      : text === undefined
        ? { lineNo }
        : { lineNo, text }
    lineNo++
    pieces = []
    size = 0
    tooLarge = false
    return line
  }
  for await (const chunk of source) {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    let start = 0
    for (let at = bytes.indexOf(NEWLINE); at >= 0; at = bytes.indexOf(NEWLINE, start)) {
      take(bytes.subarray(start, at))
      yield end()
      start = at + 1
    }
    // copied: the source may reuse its buffer for the next chunk
    if (start < bytes.length) take(Buffer.from(bytes.subarray(start)))
  }
  if (size > 0) yield end()
}

function decodeLine(bytes: Buffer): string | undefined {
  const text = utf8Text(bytes)
  return text?.endsWith('\r') ? text.slice(0, -1) : text
}
