import { modelNotFound, permissionDenied } from '../../errors.js'
import { modelAllowed, type Principal } from '../../principal.js'
import type { ModelCard } from '../../providers/provider.js'
import type { ProviderRegistry } from '../../providers/registry.js'

export function toModelObject(card: ModelCard) {
  return { id: card.id, object: 'model' as const, created: card.created, owned_by: card.ownedBy }
}

/** GET/DELETE /v1/models: what the registry serves. */
export class ModelsService {
  constructor(private readonly registry: ProviderRegistry) {}

  /** Only the models the project may use (its model permissions). */
  list(principal: Principal) {
    return { object: 'list' as const, data: this.registry.list(principal.models).map(toModelObject) }
  }

  /** A model the project may not use does not exist for it (D1), as at OpenAI. */
  get(principal: Principal, id: string) {
    if (!modelAllowed(principal.models, id)) throw modelNotFound(id)
    return toModelObject(this.registry.resolve(id).card)
  }

  /** Only a project's own fine-tuned models may be deleted; served base models answer 403. */
  delete(principal: Principal, id: string): never {
    if (!this.registry.has(id) || !modelAllowed(principal.models, id)) throw modelNotFound(id)
    throw permissionDenied(`You do not have permission to delete the model \`${id}\`. Only fine-tuned models owned by your project can be deleted.`, 'model_not_deletable')
  }
}
