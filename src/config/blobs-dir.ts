import path from 'node:path'
import type { Config } from './schema.js'

/** Where the blob store lives: `blobs.dir`, else <dataDir>/blobs. */
export function blobsDir(config: Pick<Config, 'dataDir' | 'blobs'>): string {
  return config.blobs.dir ?? path.join(config.dataDir, 'blobs')
}
