/** The first piece stays short, so the first audio leaves soon; later ones are grouped. */
const FIRST_MAX = 160
const REST_MAX = 400

/**
 * Text cut into the pieces synthesised one after the other: sentences (after . ! ? ; : or a line
 * break), the first alone and the rest grouped up to REST_MAX characters, since each piece costs
 * a process start. A sentence longer than its limit is cut at a comma, else at a space, else
 * anywhere. Pieces with nothing speakable (only spaces and punctuation) are dropped.
 */
export function speechPieces(text: string): string[] {
  const sentences = text.split(/(?<=[.!?;:])\s+|\s*[\r\n]+\s*/)
  const pieces: string[] = []
  let current = ''
  const push = (piece: string) => {
    if (/[\p{L}\p{N}]/u.test(piece)) pieces.push(piece)
  }
  for (const raw of sentences) {
    const sentence = raw.trim()
    if (!sentence) continue
    const limit = pieces.length === 0 && !current ? FIRST_MAX : REST_MAX
    for (const part of cut(sentence, limit)) {
      const max = pieces.length === 0 ? FIRST_MAX : REST_MAX
      if (current && current.length + 1 + part.length > max) {
        push(current)
        current = ''
      }
      current = current ? `${current} ${part}` : part
      // the first piece goes alone, whatever its length
      if (pieces.length === 0) {
        push(current)
        current = ''
      }
    }
  }
  if (current) push(current)
  return pieces
}

function cut(sentence: string, max: number): string[] {
  const parts: string[] = []
  let rest = sentence
  while (rest.length > max) {
    const window = rest.slice(0, max)
    let at = window.lastIndexOf(', ')
    if (at > max / 3) at += 1
    else at = window.lastIndexOf(' ')
    if (at <= 0) at = max
    parts.push(rest.slice(0, at).trim())
    rest = rest.slice(at).trim()
  }
  if (rest) parts.push(rest)
  return parts
}
