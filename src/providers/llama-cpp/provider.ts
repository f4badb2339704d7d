import path from 'node:path'
import type { LlamaGrammar } from 'node-llama-cpp'
import type { Config } from '../../config/schema.js'
import { modelNotFound, unsupportedParameter } from '../../errors.js'
import type {
  EmbedCall,
  EmbedResult,
  GenerateCall,
  ModelCard,
  Provider,
  StreamPart,
} from '../provider.js'
import type { TrainCall, TrainingBackend, TrainResult } from '../training-backend.js'
import { renderChat, renderPrompt, type RenderedPrompt } from './chat-template.js'
import { configuredModels, scanModelsDir, type LocalModel } from './discovery.js'
import { embed } from './embeddings.js'
import { contextTooLong, notAGenerativeModel } from './errors.js'
import { cachedPrefix } from './generate.js'
import { GrammarCache } from './grammar.js'
import { compileSchema } from './json-schema.js'
import type { LoadedModel } from './loaded-model.js'
import { ModelPool, type PoolStats } from './model-pool.js'
import { tokenBiasFor } from './sampling.js'
import { textChoice, type ChoiceJob, type SchemaGrammar } from './text-choice.js'
import { toolChoice, toolPlan } from './tool-calls.js'
import {
  checkTrainable,
  renderExamples,
  runTrainCall,
  type Trainability,
} from './training/local-training.js'

/** Request parameters a local text model cannot honour: a 400 naming them, never ignored. */
const UNSUPPORTED = [
  'audio',
  'prediction',
  'web_search_options',
  'reasoning_effort',
  'functions',
  'function_call',
  'suffix',
] as const

const RESCAN_MS = 1000

/** A fine-tuned model: a base model of this provider with a LoRA adapter file. */
type AdapterModel = { base: string; path: string; created: number }

/**
 * GGUF models served in-process by llama.cpp (node-llama-cpp): every *.gguf under the models
 * directory and the `llama-cpp` models of the config. Models load on first use into a pool with
 * a memory budget; requests share a model through its parallel sequences, and wait (bounded) for
 * a free one. See docs/models.md.
 */
export class LlamaCppProvider implements Provider, TrainingBackend {
  readonly id = 'llama-cpp'
  readonly modelsDir: string
  private readonly configured: LocalModel[]
  private readonly pool: ModelPool
  private models: LocalModel[] = []
  private scannedAt = 0
  private grammars: GrammarCache | undefined
  private readonly adapterModels = new Map<string, AdapterModel>()
  private readonly llamaConfig: Config['llama']

  constructor(config: Config) {
    this.llamaConfig = config.llama
    this.modelsDir = path.resolve(config.llama.modelsDir ?? path.join(config.dataDir, 'models'))
    this.configured = configuredModels(config.models)
    this.pool = new ModelPool(config.llama)
  }

  /**
   * The models served now. The directory is read again at most once a second (and at once when
   * `fresh`, for an id not seen yet), so a file dropped in is served without a restart.
   */
  catalog(fresh = false): ModelCard[] {
    if (fresh || Date.now() - this.scannedAt > RESCAN_MS) {
      this.models = [...this.configured, ...scanModelsDir(this.modelsDir, this.configured)]
      this.scannedAt = Date.now()
    }
    const cards: ModelCard[] = this.models.map((m) => ({
      id: m.id,
      ownedBy: m.ownedBy,
      created: m.created,
      capabilities: { chat: true, completions: true, embeddings: m.options.embeddings !== false },
      // the Responses API's `reasoning` (chat's reasoning_effort is refused in stream())
      unsupportedParameters: ['reasoning'],
    }))
    for (const [id, adapter] of this.adapterModels) {
      // served while its base is: a base removed from the models directory takes it along
      if (!this.models.some((m) => m.id === adapter.base)) continue
      cards.push({
        id,
        ownedBy: 'organization',
        created: adapter.created,
        capabilities: { chat: true, completions: true, embeddings: false },
      })
    }
    return cards
  }

  async listModels(): Promise<ModelCard[]> {
    return this.catalog()
  }

  stats(): PoolStats {
    return this.pool.stats()
  }

  async *stream(call: GenerateCall): AsyncGenerator<StreamPart> {
    for (const name of UNSUPPORTED) if (call.raw[name] != null) throw unsupportedParameter(name)
    if (call.raw.modalities && (call.raw.modalities as string[]).includes('audio'))
      throw unsupportedParameter('modalities')
    const { local, adapterPath } = this.findServed(call.model)
    const lease = await this.pool.acquire(local)
    try {
      const loaded = lease.model
      const generation = await loaded.generation(adapterPath)
      if (!generation) throw notAGenerativeModel(loaded.id)
      const slots = generation.slots
      const grammars = (this.grammars ??= new GrammarCache(loaded.model.llama))
      const plan = call.messages ? toolPlan(call) : undefined
      const prompt = await this.render(loaded, call, plan?.functions)
      const grammar = plan ? undefined : await this.responseGrammar(call, grammars)
      const tokenBias = await tokenBiasFor(
        loaded.model,
        loaded.vocabularySize,
        call.sampling.logitBias,
      )
      // the free sequence whose cache already holds most of this prompt
      const sequence = await slots.acquire(call.signal, (free) =>
        free.reduce((best, s) =>
          cachedPrefix(s, prompt.tokens) > cachedPrefix(best, prompt.tokens) ? s : best,
        ),
      )
      try {
        const job: ChoiceJob = {
          loaded,
          slots,
          sequence,
          prompt: prompt.tokens,
          stops: [...(call.sampling.stop ?? []), ...prompt.stops],
          stopTokens: prompt.stopTokens,
          sampling: call.sampling,
          maxTokens: call.sampling.maxTokens ?? Number.MAX_SAFE_INTEGER,
          tokenBias,
          signal: call.signal,
        }
        let outputTokens = 0
        for (let choice = 0; choice < call.sampling.n && !call.signal.aborted; choice++) {
          outputTokens += plan
            ? yield* toolChoice(job, choice, plan, grammars)
            : yield* textChoice(job, choice, grammar)
        }
        yield { type: 'usage', usage: { inputTokens: prompt.tokens.length, outputTokens } }
      } finally {
        slots.release(sequence)
      }
    } finally {
      lease.release()
    }
  }

  async embed(call: EmbedCall): Promise<EmbedResult> {
    const lease = await this.pool.acquire(this.find(call.model))
    try {
      return await embed(lease.model, call)
    } finally {
      lease.release()
    }
  }

  async trainable(model: string): Promise<Trainability> {
    if (this.adapterModels.has(model))
      return {
        ok: false,
        reason: 'it is itself a fine-tuned model; fine-tune its base model instead',
      }
    return checkTrainable(this.find(model), this.llamaConfig)
  }

  /**
   * Renders the examples with the base model as served (its chat wrapper and tokenizer), then
   * trains a LoRA adapter in a worker thread (training/, docs/fine-tuning.md).
   */
  async train(call: TrainCall): Promise<TrainResult> {
    const local = this.find(call.model)
    const check = checkTrainable(local, this.llamaConfig)
    if (!check.ok)
      throw new Error(`The model ${call.model} cannot be fine-tuned here: ${check.reason}.`)
    const lease = await this.pool.acquire(local)
    let training, validation
    try {
      training = await renderExamples(lease.model, call.training, check.contextLength)
      validation = await renderExamples(lease.model, call.validation ?? [], check.contextLength)
    } finally {
      lease.release()
    }
    call.signal.throwIfAborted()
    return runTrainCall(local, call, training, validation)
  }

  addAdapterModel(id: string, baseModel: string, adapterPath: string) {
    const previous = this.adapterModels.get(id)
    const file = path.resolve(adapterPath)
    if (previous && previous.path !== file) this.pool.loaded(previous.base)?.dropAdapter(previous.path)
    this.adapterModels.set(id, {
      base: baseModel,
      path: file,
      created: Math.floor(Date.now() / 1000),
    })
  }

  removeAdapterModel(id: string) {
    const adapter = this.adapterModels.get(id)
    if (!adapter) return
    this.adapterModels.delete(id)
    // another fine-tuned id may serve the same file (a checkpoint that became the final model)
    if (![...this.adapterModels.values()].some((a) => a.path === adapter.path))
      this.pool.loaded(adapter.base)?.dropAdapter(adapter.path)
  }

  async close() {
    await this.pool.close()
  }

  /** A served id: a model of the catalogue, or a fine-tuned one (its base, with its adapter). */
  private findServed(id: string): { local: LocalModel; adapterPath?: string } {
    const adapter = this.adapterModels.get(id)
    if (adapter) return { local: this.find(adapter.base), adapterPath: adapter.path }
    return { local: this.find(id) }
  }

  private find(id: string): LocalModel {
    const known = (fresh: boolean) => (this.catalog(fresh), this.models.find((m) => m.id === id))
    const local = known(false) ?? known(true)
    if (!local) throw modelNotFound(id)
    return local
  }

  private async render(
    loaded: LoadedModel,
    call: GenerateCall,
    functions?: Parameters<typeof renderChat>[3],
  ): Promise<RenderedPrompt> {
    const model = loaded.model
    const prompt: RenderedPrompt = call.messages
      ? renderChat(model, await loaded.chatWrapper(), call.messages, functions)
      : { tokens: renderPrompt(model, call.prompt ?? ''), stops: [], stopTokens: new Set() }
    if (prompt.tokens.length >= loaded.contextSize) {
      throw contextTooLong(
        loaded.contextSize,
        prompt.tokens.length,
        call.messages ? 'messages' : 'prompt',
      )
    }
    return prompt
  }

  private async responseGrammar(
    call: GenerateCall,
    grammars: GrammarCache,
  ): Promise<LlamaGrammar | SchemaGrammar | undefined> {
    const format = call.responseFormat
    if (format?.type === 'json_object') return grammars.forJsonObject()
    if (format?.type === 'json_schema') {
      const schema = format.json_schema.schema
      if (!schema) return grammars.forJsonObject()
      const param = 'response_format.json_schema.schema'
      const compiled = compileSchema(schema, param)
      return { grammar: await grammars.forJsonSchema(compiled), schema: compiled, param }
    }
    return undefined
  }
}
