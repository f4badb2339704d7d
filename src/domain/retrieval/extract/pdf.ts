import { ExtractError } from './text.js'

/** The text of a PDF, page by page (unpdf: pdf.js built for servers, no canvas, no worker of its own). */
export async function pdfText(bytes: Uint8Array, filename: string): Promise<string> {
  const { extractText, getDocumentProxy } = await import('unpdf')
  let pages: string[]
  try {
    const pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 })
    try {
      pages = (await extractText(pdf, { mergePages: false })).text
    } finally {
      await pdf.destroy()
    }
  } catch (error) {
    throw new ExtractError('invalid_file', `The file ${filename} could not be parsed as a PDF: ${(error as Error).message}`)
  }
  return pages.join('\n\n')
}
