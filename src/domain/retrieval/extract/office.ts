import { unzipSync } from 'fflate'
import { ExtractError } from './text.js'

/** The text of a .docx: mammoth reads paragraphs, tables, lists and fields the way Word lays them out. */
export async function docxText(bytes: Uint8Array, filename: string): Promise<string> {
  const mammoth = await import('mammoth')
  try {
    const result = await mammoth.default.extractRawText({ buffer: Buffer.from(bytes) })
    return result.value
  } catch (error) {
    throw new ExtractError('invalid_file', `The file ${filename} could not be parsed as a Word document (.docx): ${(error as Error).message}`)
  }
}

/**
 * The text of a .pptx: each slide's text runs (`<a:t>`) in slide order, a paragraph per line,
 * slides apart by a blank line. A pptx is a zip of XML parts; fflate unzips it in memory.
 */
export function pptxText(bytes: Uint8Array, filename: string): string {
  let parts: Record<string, Uint8Array>
  try {
    parts = unzipSync(bytes, { filter: (file) => /^ppt\/slides\/slide\d+\.xml$/.test(file.name) })
  } catch (error) {
    throw new ExtractError('invalid_file', `The file ${filename} could not be parsed as a PowerPoint presentation (.pptx): ${(error as Error).message}`)
  }
  const slides = Object.keys(parts).sort((a, b) => slideNumber(a) - slideNumber(b))
  if (!slides.length) throw new ExtractError('invalid_file', `The file ${filename} is not a PowerPoint presentation (.pptx): it has no slides.`)
  const decoder = new TextDecoder()
  return slides
    .map((name) => {
      const xml = decoder.decode(parts[name])
      return xml
        .split(/<\/a:p>/)
        .map((paragraph) => [...paragraph.matchAll(/<a:t(?:\s[^>]*)?>([^<]*)<\/a:t>/g)].map((m) => xmlText(m[1])).join(''))
        .filter((line) => line.trim())
        .join('\n')
    })
    .join('\n\n')
}

function slideNumber(name: string): number {
  return Number(/(\d+)\.xml$/.exec(name)?.[1] ?? 0)
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

function xmlText(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10)
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole
    }
    return ENTITIES[name] ?? whole
  })
}
