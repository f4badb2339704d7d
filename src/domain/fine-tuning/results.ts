import { createRepos } from '../../storage/repositories/index.js'
import type { FineTuningJobRow } from '../../storage/repositories/fine-tuning.js'
import type { Storage } from '../../storage/storage.js'
import type { FilesService } from '../files/service.js'

/** OpenAI's result file: one row per step, the columns of its `step_metrics.csv`. */
const HEADER = 'step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy'

/** Writes the job's step metrics (from its metrics events) as a `fine-tune-results` file. */
export async function writeResultFile(storage: Storage, files: FilesService, job: FineTuningJobRow) {
  const events = await createRepos(storage.db).fineTuningEvents.metrics(job.id)
  const rows = new Map<number, Record<string, unknown>>()
  for (const event of events) {
    const data = JSON.parse(event.data ?? '{}') as Record<string, unknown>
    if (typeof data.step === 'number') rows.set(data.step, data)
  }
  const cell = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : '')
  const lines = [HEADER]
  for (const step of [...rows.keys()].sort((a, b) => a - b)) {
    const d = rows.get(step)!
    lines.push(
      [step, d.train_loss, d.train_mean_token_accuracy, d.valid_loss, d.valid_mean_token_accuracy]
        .map(cell)
        .join(','),
    )
  }
  const bytes = Buffer.from(lines.join('\n') + '\n')
  return files.createFromStream(
    job.project_id,
    { filename: 'step_metrics.csv', purpose: 'fine-tune-results', mimeType: 'text/csv' },
    (async function* () {
      yield bytes
    })(),
  )
}
