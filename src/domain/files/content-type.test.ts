import { describe, expect, it } from 'vitest'
import { downloadContentType, imageContentType } from './content-type.js'

describe('downloadContentType', () => {
  it('answers by extension what the hand-written table did before mime-types', () => {
    const before: Record<string, string> = {
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
    for (const [extension, type] of Object.entries(before)) {
      expect(downloadContentType(`file.${extension}`, null)).toBe(type)
      expect(downloadContentType(`FILE.${extension.toUpperCase()}`, 'application/octet-stream')).toBe(type)
    }
  })

  it('knows the types the table lacked, and TypeScript is not a video', () => {
    expect(downloadContentType('report.docx', null)).toBe(
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    )
    expect(downloadContentType('main.c', null)).toBe('text/x-c')
    expect(downloadContentType('index.ts', null)).toBe('application/typescript')
  })

  it('prefers the declared type; JSON and unknown names go out as bytes', () => {
    expect(downloadContentType('picture', 'image/png; charset=binary')).toBe('image/png')
    expect(downloadContentType('in.jsonl', null)).toBe('application/octet-stream')
    expect(downloadContentType('data.json', null)).toBe('application/octet-stream')
    expect(downloadContentType('x.txt', 'application/json')).toBe('application/octet-stream')
    expect(downloadContentType('blob.bin', null)).toBe('application/octet-stream')
    // a bare name is not an extension
    expect(downloadContentType('png', null)).toBe('application/octet-stream')
    expect(downloadContentType('no-extension', null)).toBe('application/octet-stream')
  })
})

describe('imageContentType', () => {
  it('reads an image extension, PNG otherwise', () => {
    expect(imageContentType('cat.JPG')).toBe('image/jpeg')
    expect(imageContentType('cat.webp')).toBe('image/webp')
    expect(imageContentType('cat.gif')).toBe('image/gif')
    expect(imageContentType('cat.png')).toBe('image/png')
    expect(imageContentType('cat')).toBe('image/png')
    expect(imageContentType('cat.txt')).toBe('image/png')
  })
})
