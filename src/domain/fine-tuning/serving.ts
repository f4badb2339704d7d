import { providerLog } from '../../logger.js'
import type { ModelCard } from '../../providers/provider.js'
import type { ProviderRegistry } from '../../providers/registry.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { FineTuningJobRow } from '../../storage/repositories/fine-tuning.js'
import type { Storage } from '../../storage/storage.js'

/** One servable fine-tuned model: the job's final model or one of its checkpoints. */
export type ServedModel = {
  id: string
  job: FineTuningJobRow
  /** local: the adapter file */
  adapterPath: string | null
  /** upstream: the upstream's name of the model */
  upstreamModel: string | null
  created: number
}

/**
 * Puts fine-tuned models in the registry, visible to their project and the projects granted
 * them: a local adapter on its base model's provider (`addAdapterModel`), or an upstream's model
 * through that upstream. At boot, `restore` does it for every succeeded job and its checkpoints.
 * Other nodes learn of a change (a job that finished, a model deleted, a grant) from the change
 * feed's `models` topic, and read the set again (`resync`).
 */
export class FineTunedModels {
  /** the ids this node serves */
  private readonly serving = new Set<string>()
  private syncing: Promise<void> | undefined
  private again = false

  constructor(
    private readonly storage: Storage,
    private readonly registry: ProviderRegistry,
  ) {
    storage.changes.subscribe('models', () => {
      this.resync().catch((error) => providerLog.error({ err: error }, 'could not read the fine-tuned models again'))
    })
  }

  /** Tells every node (this one included) that the fine-tuned models changed; after the commit. */
  announce(): Promise<void> {
    return this.storage.changes.publish('models')
  }

  /** False when the base model is no longer served (the model is then not served either). */
  add(model: ServedModel, grantedProjects: Iterable<string> = []): boolean {
    const { job } = model
    if (!this.registry.has(job.model)) return false
    let base
    try {
      base = this.registry.resolve(job.model)
    } catch {
      return false
    }
    const card: ModelCard = { ...base.card, id: model.id, ownedBy: job.org_id, created: model.created }
    const projects = [job.project_id, ...grantedProjects]
    if (job.backend === 'upstream') {
      if (!model.upstreamModel) return false
      this.registry.addPrivate(card, base.provider, model.upstreamModel, projects)
      this.serving.add(model.id)
      return true
    }
    if (!model.adapterPath || !base.provider.addAdapterModel) return false
    base.provider.addAdapterModel(model.id, base.upstreamModel, model.adapterPath)
    this.registry.addPrivate(card, base.provider, model.id, projects)
    this.serving.add(model.id)
    return true
  }

  remove(id: string) {
    const served = this.registry.privateModel(id)
    served?.provider.removeAdapterModel?.(id)
    this.registry.removePrivate(id)
    this.serving.delete(id)
  }

  async restore(): Promise<number> {
    let count = 0
    for (const { model, grants, job } of await this.stored()) {
      if (this.add(model, grants)) count++
      else providerLog.warn({ model: model.id, base: job.model }, 'fine-tuned model not served: its base model is gone')
    }
    return count
  }

  /**
   * Serves what the database says, as a restart would: adds the models it lacks (with their
   * grants as they are now), removes those deleted. Concurrent calls coalesce into one more read.
   */
  resync(): Promise<void> {
    if (this.syncing) {
      this.again = true
      return this.syncing
    }
    this.syncing = (async () => {
      try {
        do {
          this.again = false
          const stored = await this.stored()
          const ids = new Set(stored.map((s) => s.model.id))
          for (const id of [...this.serving]) if (!ids.has(id)) this.remove(id)
          for (const { model, grants } of stored) this.add(model, grants)
        } while (this.again)
      } finally {
        this.syncing = undefined
      }
    })()
    return this.syncing
  }

  /**
   * Every servable model with the projects granted it: the succeeded jobs' models and
   * checkpoints, and the checkpoints of jobs still training (served as they are made).
   */
  private async stored(): Promise<{ model: ServedModel; grants: string[] | undefined; job: FineTuningJobRow }[]> {
    const repos = createRepos(this.storage.db)
    const grants = new Map<string, string[]>()
    for (const p of await repos.fineTuningPermissions.all()) {
      const list = grants.get(p.fine_tuned_model_checkpoint) ?? []
      list.push(p.project_id)
      grants.set(p.fine_tuned_model_checkpoint, list)
    }
    const models: ServedModel[] = []
    const checkpoints = async (job: FineTuningJobRow) => {
      for (const c of await repos.fineTuningCheckpoints.forJob(job.id)) {
        models.push({ id: c.fine_tuned_model_checkpoint, job, adapterPath: c.adapter_path, upstreamModel: c.upstream_model, created: c.created_at })
      }
    }
    for (const job of await repos.fineTuningJobs.served()) {
      models.push({ id: job.fine_tuned_model!, job, adapterPath: job.adapter_path, upstreamModel: job.upstream_model, created: job.finished_at ?? job.created_at })
      await checkpoints(job)
    }
    for (const job of await repos.fineTuningJobs.unfinished(500, { paused: true })) await checkpoints(job)
    return models.map((model) => ({ model, grants: grants.get(model.id), job: model.job }))
  }
}
