import { convert } from 'html-to-text'
import { formatOf, extensionOf } from './formats.js'
import { docxText, pptxText } from './office.js'
import { pdfText } from './pdf.js'
import { cleanText, decodeText, ExtractError } from './text.js'

export { ExtractError }

/**
 * A file's bytes → its text, by the file's type (extract/formats.ts). A type file search does
 * not take is `unsupported_file`; bytes that do not parse as their type are `invalid_file`.
 */
export async function extractText(bytes: Uint8Array, filename: string): Promise<string> {
  const format = formatOf(filename)
  if (!format) {
    throw new ExtractError('unsupported_file', `The file type .${extensionOf(filename)} is not supported for file search (${filename}).`)
  }
  switch (format) {
    case 'text':
      return cleanText(decodeText(bytes, filename))
    case 'html':
      return cleanText(
        convert(decodeText(bytes, filename), {
          wordwrap: false,
          selectors: [
            { selector: 'a', options: { ignoreHref: true } },
            { selector: 'img', format: 'skip' },
          ],
        }),
      )
    case 'pdf':
      return cleanText(await pdfText(bytes, filename))
    case 'docx':
      return cleanText(await docxText(bytes, filename))
    case 'pptx':
      return cleanText(pptxText(bytes, filename))
  }
}
