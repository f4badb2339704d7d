import path from 'node:path'

export type PullSource = {
  /** What the user typed, kept in the pull record. */
  source: string
  url: string
  /** The file name in the models directory. */
  fileName: string
  /** Where the model comes from, for /v1/models' owned_by. */
  ownedBy: string
  headers: Record<string, string>
}

const HF_SOURCE = /^hf:([^/\s]+)\/([^/\s]+)\/(.+\.gguf)$/i

/**
 * `hf:<owner>/<repo>/<path>.gguf` (a file of a Hugging Face model repository, main branch) or an
 * http(s) URL of a GGUF file. A Hugging Face token (HF_TOKEN) is sent to Hugging Face only, and
 * HF_ENDPOINT points at a mirror, as in Hugging Face's own tools.
 */
export function parseSource(
  source: string,
  env: Record<string, string | undefined>,
  name?: string,
): PullSource {
  const hf = HF_SOURCE.exec(source)
  if (hf) {
    const [, owner, repo, file] = hf
    const endpoint = (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '')
    const url = `${endpoint}/${owner}/${repo}/resolve/main/${file.split('/').map(encodeURIComponent).join('/')}`
    return {
      source,
      url,
      fileName: fileName(name, file),
      ownedBy: `huggingface:${owner}`,
      headers: env.HF_TOKEN ? { authorization: `Bearer ${env.HF_TOKEN}` } : {},
    }
  }
  let url: URL
  try {
    url = new URL(source)
  } catch {
    throw new Error(`'${source}' is neither an http(s) URL nor hf:<owner>/<repo>/<file>.gguf`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`only http(s) URLs can be pulled, not ${url.protocol}`)
  return {
    source,
    url: url.href,
    fileName: fileName(name, decodeURIComponent(url.pathname)),
    ownedBy: url.host,
    headers: {},
  }
}

function fileName(name: string | undefined, remotePath: string): string {
  const base = name ? name.replace(/\.gguf$/i, '') + '.gguf' : path.posix.basename(remotePath)
  if (!/\.gguf$/i.test(base))
    throw new Error(`'${base}' is not a .gguf file; give --name to name it`)
  if (base.includes('/') || base.includes('\\') || base.startsWith('.'))
    throw new Error(`'${base}' is not a plain file name`)
  return base
}
