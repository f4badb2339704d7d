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
 */
export class FineTunedModels {
  constructor(
    private readonly storage: Storage,
    private readonly registry: ProviderRegistry,
  ) {}

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
      return true
    }
    if (!model.adapterPath || !base.provider.addAdapterModel) return false
    base.provider.addAdapterModel(model.id, base.upstreamModel, model.adapterPath)
    this.registry.addPrivate(card, base.provider, model.id, projects)
    return true
  }

  remove(id: string) {
    const served = this.registry.privateModel(id)
    served?.provider.removeAdapterModel?.(id)
    this.registry.removePrivate(id)
  }

  async restore(): Promise<number> {
    const repos = createRepos(this.storage.db)
    const grants = new Map<string, string[]>()
    for (const p of await repos.fineTuningPermissions.all()) {
      const list = grants.get(p.fine_tuned_model_checkpoint) ?? []
      list.push(p.project_id)
      grants.set(p.fine_tuned_model_checkpoint, list)
    }
    let count = 0
    for (const job of await repos.fineTuningJobs.served()) {
      const models: ServedModel[] = [
        {
          id: job.fine_tuned_model!,
          job,
          adapterPath: job.adapter_path,
          upstreamModel: job.upstream_model,
          created: job.finished_at ?? job.created_at,
        },
      ]
      for (const c of await repos.fineTuningCheckpoints.forJob(job.id)) {
        models.push({
          id: c.fine_tuned_model_checkpoint,
          job,
          adapterPath: c.adapter_path,
          upstreamModel: c.upstream_model,
          created: c.created_at,
        })
      }
      for (const model of models) {
        if (this.add(model, grants.get(model.id))) count++
        else providerLog.warn({ model: model.id, base: job.model }, 'fine-tuned model not served: its base model is gone')
      }
    }
    return count
  }
}
