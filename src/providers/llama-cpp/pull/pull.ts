import fs from 'node:fs'
import path from 'node:path'
import { PULL_RECORD_SUFFIX, type PullRecord } from '../discovery.js'
import { download, DownloadError } from './download.js'
import { bytes, progressReporter } from './progress.js'
import { parseSource } from './source.js'

export type PullOptions = {
  modelsDir: string
  sha256?: string
  /** File name in the models directory (the model's id); default: the remote file's name. */
  name?: string
  force?: boolean
  env: Record<string, string | undefined>
  /** Progress and messages (stderr for the CLI). */
  out: NodeJS.WritableStream & { isTTY?: boolean }
  retryDelayMs?: number
}

export { DownloadError }

/**
 * `plinth pull`: downloads a GGUF file into the models directory, where the running server
 * serves it under its file stem. Only this command downloads models; Plinth never does at run
 * time. An interrupted pull resumes when run again.
 */
export async function pull(
  source: string,
  options: PullOptions,
): Promise<{ file: string; id: string; bytes: number; sha256?: string }> {
  if (options.sha256 && !/^[0-9a-f]{64}$/i.test(options.sha256))
    throw new DownloadError(`--sha256 must be 64 hex digits`)
  const from = parseSource(source, options.env, options.name)
  fs.mkdirSync(options.modelsDir, { recursive: true })
  const file = path.join(options.modelsDir, from.fileName)
  const id = from.fileName.replace(/\.gguf$/i, '')
  if (fs.existsSync(file) && !options.force) {
    options.out.write(
      `${file} is already there (served as \`${id}\`); --force downloads it again\n`,
    )
    return { file, id, bytes: fs.statSync(file).size }
  }
  options.out.write(`pulling ${from.url}\n`)
  const reporter = progressReporter(options.out)
  const result = await download({
    url: from.url,
    dest: file,
    headers: from.headers,
    sha256: options.sha256,
    retryDelayMs: options.retryDelayMs,
    onProgress: (p) => reporter.update(p),
    checkHead: (head) => {
      if (head.subarray(0, 4).toString('latin1') !== 'GGUF')
        throw new Error('the file is not a GGUF model (it does not start with "GGUF")')
    },
  }).finally(() => reporter.done())
  const record: PullRecord = {
    source: from.source,
    url: from.url,
    sha256: result.sha256,
    ownedBy: from.ownedBy,
    pulledAt: Math.floor(Date.now() / 1000),
  }
  const recordFile = file + PULL_RECORD_SUFFIX
  fs.writeFileSync(`${recordFile}.tmp`, JSON.stringify(record, null, 2) + '\n')
  fs.renameSync(`${recordFile}.tmp`, recordFile)
  options.out.write(
    `saved ${file} (${bytes(result.bytes)}, sha256 ${result.sha256}); served as model \`${id}\`\n`,
  )
  return { file, id, bytes: result.bytes, sha256: result.sha256 }
}
