/**
 * The file types file search takes (OpenAI's list, with more code and text types), by extension.
 * `text` files are read as UTF-8 (or UTF-16 with a byte-order mark); the others have a parser.
 */
export type Format = 'text' | 'html' | 'pdf' | 'docx' | 'pptx'

const TEXT = [
  'txt', 'md', 'markdown', 'mdx', 'rst', 'adoc', 'tex', 'log', 'json', 'jsonl', 'ndjson', 'csv', 'tsv',
  'xml', 'yaml', 'yml', 'toml', 'ini', 'cfg', 'conf', 'env', 'properties', 'sql', 'graphql', 'proto',
  'c', 'h', 'cc', 'cpp', 'cxx', 'hpp', 'hh', 'cs', 'css', 'scss', 'less', 'go', 'java', 'kt', 'kts',
  'scala', 'groovy', 'js', 'mjs', 'cjs', 'jsx', 'ts', 'mts', 'cts', 'tsx', 'vue', 'svelte', 'php',
  'py', 'pyi', 'rb', 'rs', 'swift', 'm', 'mm', 'sh', 'bash', 'zsh', 'fish', 'ps1', 'bat', 'lua', 'pl',
  'pm', 'r', 'jl', 'dart', 'ex', 'exs', 'erl', 'hs', 'clj', 'elm', 'fs', 'fsx', 'ml', 'nim', 'zig',
  'v', 'sv', 'vhd', 'asm', 's', 'gradle', 'cmake', 'make', 'mk', 'dockerfile', 'tf', 'hcl', 'ipynb',
]

const FORMATS: Record<string, Format> = {
  ...Object.fromEntries(TEXT.map((ext) => [ext, 'text' as const])),
  html: 'html',
  htm: 'html',
  xhtml: 'html',
  pdf: 'pdf',
  docx: 'docx',
  pptx: 'pptx',
}

export function extensionOf(filename: string): string {
  const base = filename.split(/[\\/]/).pop() ?? ''
  const dot = base.lastIndexOf('.')
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : ''
}

/**
 * The format of a file by its name (a name without an extension, such as Makefile, is read as
 * text if its bytes are text); undefined when file search does not take it.
 */
export function formatOf(filename: string): Format | undefined {
  const ext = extensionOf(filename)
  if (!ext) return 'text'
  return FORMATS[ext]
}
