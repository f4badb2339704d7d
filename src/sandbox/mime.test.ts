import { describe, expect, it } from 'vitest'
import { mimeTypeOf } from './mime.js'

describe('mimeTypeOf', () => {
  it('answers what the hand-written table did before mime-types', () => {
    const before: Record<string, string> = {
      '.png': 'image/png',
      '.jpg': 'image/jpeg',
      '.jpeg': 'image/jpeg',
      '.gif': 'image/gif',
      '.webp': 'image/webp',
      '.svg': 'image/svg+xml',
      '.bmp': 'image/bmp',
      '.pdf': 'application/pdf',
      '.csv': 'text/csv',
      '.tsv': 'text/tab-separated-values',
      '.txt': 'text/plain',
      '.md': 'text/markdown',
      '.html': 'text/html',
      '.htm': 'text/html',
      '.json': 'application/json',
      '.jsonl': 'application/jsonl',
      '.xml': 'application/xml',
      '.yaml': 'application/x-yaml',
      '.yml': 'application/x-yaml',
      '.py': 'text/x-python',
      '.js': 'text/javascript',
      '.zip': 'application/zip',
      '.tar': 'application/x-tar',
      '.gz': 'application/gzip',
      '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      '.xls': 'application/vnd.ms-excel',
      '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      '.pptx': 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
      '.parquet': 'application/vnd.apache.parquet',
    }
    for (const [extension, type] of Object.entries(before)) {
      expect(mimeTypeOf(`out/chart${extension}`)).toBe(type)
      expect(mimeTypeOf(`CHART${extension.toUpperCase()}`)).toBe(type)
    }
  })

  it('knows more than the table did; an unknown or missing extension is bytes', () => {
    expect(mimeTypeOf('plot.tiff')).toBe('image/tiff')
    expect(mimeTypeOf('model.pkl')).toBe('application/octet-stream')
    expect(mimeTypeOf('Makefile')).toBe('application/octet-stream')
    expect(mimeTypeOf('png')).toBe('application/octet-stream')
  })
})
