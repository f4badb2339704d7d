import type { Config } from '../config/schema.js'
import { readSecret } from '../config/load.js'
import { modelNotFound, projectModelDenied } from '../errors.js'
import { modelAllowed, type ModelPolicy } from '../principal.js'
import { LlamaCppProvider } from './llama-cpp/provider.js'
import { FliteSpeechProvider } from './local-audio/flite-provider.js'
import { LocalTranscriptionProvider } from './local-audio/transcription-provider.js'
import { OpenAICompatibleProvider } from './openai-compatible/provider.js'
import type { ModelCard, Provider } from './provider.js'
import { LEXICON_MODEL_ID, LocalModerationProvider } from './lexicon-moderation/provider.js'
import { JUDGE_MODEL_ID } from './lexicon-moderation/judge.js'
import { TestProvider } from './test/index.js'
import { tracing } from '../tracing/tracing.js'

export type ResolvedModel = { card: ModelCard; provider: Provider; upstreamModel: string }

/**
 * Public model id → { provider, upstreamModel }. Config lists the models; built-in test models
 * join when enabled. Unknown ids get OpenAI's 404 model_not_found.
 */
export class ProviderRegistry {
  private readonly models = new Map<string, ResolvedModel>()
  private readonly providers: Provider[] = []
  /** Local GGUF models: the files in the models directory change while Plinth runs. */
  private llama: { provider: LlamaCppProvider; ids: Set<string> } | undefined
  /** OpenAI's model names → a served model, for names no configured model takes (docs/models.md). */
  private aliases: Record<string, string> = {}
  /** Fine-tuned models: served only to the projects that own them or were granted them. */
  private readonly privateModels = new Map<string, { model: ResolvedModel; projects: Set<string> }>()

  static async create(config: Config, env: Record<string, string | undefined> = process.env): Promise<ProviderRegistry> {
    const registry = new ProviderRegistry()
    registry.aliases = config.modelAliases
    if (config.testModels.enabled) {
      const test = new TestProvider({ scriptFile: config.testModels.scriptFile })
      registry.providers.push(test)
      for (const card of await test.listModels()) registry.add(card, test, card.id)
    }
    const judge = config.moderation.judgeModel !== undefined
    const moderation = new LocalModerationProvider({ judge })
    registry.providers.push(moderation)
    for (const card of await moderation.listModels()) registry.add(card, moderation, card.id)
    // a configured judge takes the OpenAI moderation names the lexicon had (docs/moderation.md)
    if (judge) registry.aliases = Object.fromEntries(Object.entries(registry.aliases).map(([k, v]) => [k, v === LEXICON_MODEL_ID ? JUDGE_MODEL_ID : v]))
    const upstreams = new Map<string, OpenAICompatibleProvider>()
    for (const upstream of config.upstreams) {
      const provider = new OpenAICompatibleProvider(upstream, readSecret(upstream.apiKeyEnv, env))
      upstreams.set(upstream.id, provider)
      registry.providers.push(provider)
    }
    const created = Math.floor(Date.now() / 1000)
    for (const model of config.models) {
      if (model.provider === 'openai-compatible') {
        const provider = upstreams.get(model.upstream ?? '')
        if (!provider) throw new Error(`model ${model.id}: upstream '${model.upstream}' is not in config.upstreams`)
        const card: ModelCard = {
          id: model.id,
          ownedBy: model.ownedBy ?? model.upstream ?? 'upstream',
          created,
          // the upstream decides what the model can do: every endpoint is forwarded
          capabilities: {
            chat: true,
            completions: true,
            embeddings: true,
            speech: true,
            transcription: true,
            translation: true,
            images: true,
            moderation: true,
          },
          contextLength: model.contextLength,
          maxOutputTokens: model.maxOutputTokens,
        }
        registry.add(card, provider, model.upstreamModel ?? model.id)
      } else if (model.provider === 'llama-cpp') {
        continue // served by the llama-cpp provider's catalogue, below
      } else if (model.provider === 'test') {
        throw new Error(`model ${model.id}: the test provider's models are built in (testModels.enabled)`)
      } else {
        throw new Error(`model ${model.id}: provider '${model.provider}' is not available in this build yet`)
      }
    }
    // offline speech: listed even on a host without flite, which then answers 503 naming it
    await registry.addLocal(new FliteSpeechProvider())
    await registry.addLocal(new LocalTranscriptionProvider())
    const llama = new LlamaCppProvider(config)
    registry.providers.push(llama)
    registry.llama = { provider: llama, ids: new Set() }
    registry.syncLocalModels(true)
    return registry
  }

  /** A built-in offline engine's models, unless config already gave their ids to other models. */
  private async addLocal(provider: Provider) {
    this.providers.push(provider)
    for (const card of await provider.listModels()) if (!this.models.has(card.id)) this.add(card, provider, card.id)
  }

  private add(card: ModelCard, provider: Provider, upstreamModel: string) {
    if (this.models.has(card.id)) throw new Error(`model id '${card.id}' is configured twice`)
    this.models.set(card.id, { card, provider, upstreamModel })
  }

  /**
   * Brings the local models in line with the models directory: new files join, removed ones
   * leave. Ids configured otherwise keep their model.
   */
  private syncLocalModels(fresh = false) {
    if (!this.llama) return
    const { provider, ids } = this.llama
    const cards = provider.catalog(fresh)
    const current = new Set(cards.map((c) => c.id))
    for (const id of ids) {
      if (!current.has(id)) {
        this.models.delete(id)
        ids.delete(id)
      }
    }
    for (const card of cards) {
      const existing = this.models.get(card.id)
      if (existing && !ids.has(card.id)) continue
      this.models.set(card.id, { card, provider, upstreamModel: card.id })
      ids.add(card.id)
    }
  }

  /**
   * Serves a fine-tuned model to `projects` only (the owner, and those granted it). Registering
   * an id again replaces its model and projects.
   */
  addPrivate(card: ModelCard, provider: Provider, upstreamModel: string, projects: Iterable<string>) {
    this.privateModels.set(card.id, { model: { card, provider, upstreamModel }, projects: new Set(projects) })
  }

  removePrivate(id: string) {
    this.privateModels.delete(id)
  }

  /** Lets one more project use a fine-tuned model, or no longer (checkpoint permissions). */
  setPrivateAccess(id: string, projectId: string, allowed: boolean) {
    const entry = this.privateModels.get(id)
    if (!entry) return
    if (allowed) entry.projects.add(projectId)
    else entry.projects.delete(projectId)
  }

  /** A fine-tuned model registered here, whoever may see it. */
  privateModel(id: string): ResolvedModel | undefined {
    return this.privateModels.get(id)?.model
  }

  /**
   * The model behind a public id. With a project's model policy, a model the project may not use
   * is refused (A9) once it is known to exist, so ids are compared exactly, after resolution.
   */
  resolve(modelId: string, policy?: ModelPolicy): ResolvedModel {
    const own = this.privateModels.get(modelId)
    if (own) {
      // another project's fine-tuned model does not exist for this one (as at OpenAI)
      if (!policy || !own.projects.has(policy.projectId) || !modelAllowed(policy, modelId))
        throw modelNotFound(modelId)
      return tracing ? tracedModel(own.model) : own.model
    }
    const found = this.lookup(modelId)
    if (!found) throw modelNotFound(modelId)
    // a policy may name either the alias the app sends or the model behind it
    if (!modelAllowed(policy, found.card.id) && !modelAllowed(policy, modelId)) {
      throw projectModelDenied(policy!.projectId, modelId)
    }
    return tracing ? tracedModel(found) : found
  }

  has(modelId: string): boolean {
    return this.privateModels.has(modelId) || this.lookup(modelId) !== undefined
  }

  /** Whether `resolve` would serve the model under this policy (another project's fine-tune: no). */
  usable(modelId: string, policy?: ModelPolicy): boolean {
    const own = this.privateModels.get(modelId)
    if (own) return !!policy && own.projects.has(policy.projectId) && modelAllowed(policy, modelId)
    const found = this.lookup(modelId)
    return !!found && (modelAllowed(policy, found.card.id) || modelAllowed(policy, modelId))
  }

  /** A served model by id, else by alias: an id always wins over an alias of the same name. */
  private lookup(modelId: string): ResolvedModel | undefined {
    let found = this.models.get(modelId)
    if (!found) {
      this.syncLocalModels(true)
      found = this.models.get(modelId)
    }
    const target = Object.hasOwn(this.aliases, modelId) ? this.aliases[modelId] : undefined
    return found ?? (target !== undefined ? this.models.get(target) : undefined)
  }

  /** The served models; with a project's model policy, only those it may use. */
  /** Whether any local GGUF model is served now (the llama.cpp runtime will be needed). */
  hasLocalModels(): boolean {
    return (this.llama?.ids.size ?? 0) > 0
  }

  list(policy?: ModelPolicy): ModelCard[] {
    this.syncLocalModels()
    const cards = [...this.models.values()].map((m) => m.card)
    for (const { model, projects } of this.privateModels.values())
      if (policy && projects.has(policy.projectId)) cards.push(model.card)
    return cards.filter((card) => modelAllowed(policy, card.id))
  }

  async close() {
    await Promise.allSettled(this.providers.map((p) => p.close?.()))
  }
}

/** The model with its provider's calls in spans (tracing/provider-spans.ts), when tracing is on. */
function tracedModel(model: ResolvedModel): ResolvedModel {
  return { ...model, provider: tracing!.provider(model.provider) }
}
