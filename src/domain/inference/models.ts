import { modelNotFound, permissionDenied } from '../../errors.js'
import { modelAllowed, type Principal } from '../../principal.js'
import type { ModelCard } from '../../providers/provider.js'
import type { ProviderRegistry } from '../../providers/registry.js'

export function toModelObject(card: ModelCard) {
  return { id: card.id, object: 'model' as const, created: card.created, owned_by: card.ownedBy }
}

/** GET/DELETE /v1/models: what the registry serves. */
type DeleteFineTuned = (principal: Principal, id: string) => Promise<{ id: string; object: 'model'; deleted: boolean } | undefined>

export class ModelsService {
  constructor(
    private readonly registry: ProviderRegistry,
    /** Deletes a fine-tuned model (the fine-tuning service); undefined: not a fine-tuned model. */
    private readonly deleteFineTuned: DeleteFineTuned = async () => undefined,
  ) {}

  /** Only the models the project may use (its model permissions). */
  list(principal: Principal) {
    return { object: 'list' as const, data: this.registry.list(principal.models).map(toModelObject) }
  }

  /** A model the project may not use does not exist for it (D1), as at OpenAI. */
  get(principal: Principal, id: string) {
    if (!modelAllowed(principal.models, id)) throw modelNotFound(id)
    return toModelObject(this.registry.resolve(id, principal.models).card)
  }

  /** Only a project's own fine-tuned models may be deleted; served base models answer 403. */
  async delete(principal: Principal, id: string) {
    const deleted = await this.deleteFineTuned(principal, id)
    if (deleted) return deleted
    if (!this.registry.has(id) || !modelAllowed(principal.models, id)) throw modelNotFound(id)
    throw permissionDenied(`You do not have permission to delete the model \`${id}\`. Only fine-tuned models owned by your project can be deleted.`, 'model_not_deletable')
  }
}
