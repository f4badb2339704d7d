import { yieldToLoop } from '../../pacing.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { BatchLineStatus, BatchRow } from '../../storage/repositories/batches.js'
import type { Storage } from '../../storage/storage.js'
import type { FilesService } from '../files/service.js'

// an output line can be large (an embedding is ~30 KB): a page stays a few MB at most, read and
// joined in one synchronous step, so pages are small and the loop yields between them
const PAGE = 50

const FILES = [
  { status: 'completed', column: 'output_file_id', suffix: 'output' },
  { status: 'failed', column: 'error_file_id', suffix: 'error' },
] as const

/** Another run of the job gave the batch this file first; ours is dropped. */
class AlreadyWritten extends Error {}

/**
 * Writes the output file (successful lines) and the error file (failed ones) from the stored
 * results, in input order, each only if it has lines. A file becomes visible in the same
 * transaction that names it on the batch, so a crash leaves either both or neither; a file
 * already named (an earlier run got that far) is not written again.
 */
export async function writeResultFiles(storage: Storage, files: FilesService, batch: BatchRow) {
  for (const { status, column, suffix } of FILES) {
    if (batch[column] !== null) continue
    const lines = createRepos(storage.db).batchLines
    if ((await lines.results(batch.id, status, 0, 1)).length === 0) continue
    try {
      await files.createFromStream(
        batch.project_id,
        {
          filename: `${batch.id}_${suffix}.jsonl`,
          purpose: 'batch_output',
          expiresAfterSeconds: batch.output_expires_after,
        },
        resultBytes(storage, batch.id, status),
        async (tx, fileId) => {
          const named = await createRepos(tx.db).batches.setFile(
            batch.project_id,
            batch.id,
            column,
            fileId,
          )
          if (!named) throw new AlreadyWritten()
        },
      )
    } catch (error) {
      if (!(error instanceof AlreadyWritten)) throw error
    }
  }
}

async function* resultBytes(
  storage: Storage,
  batchId: string,
  status: Exclude<BatchLineStatus, 'pending'>,
): AsyncGenerator<Uint8Array> {
  const lines = createRepos(storage.db).batchLines
  let after = 0
  for (;;) {
    const page = await lines.results(batchId, status, after, PAGE)
    if (page.length === 0) return
    yield Buffer.from(page.map((line) => line.result + '\n').join(''))
    after = page[page.length - 1].line_no
    await yieldToLoop()
  }
}
