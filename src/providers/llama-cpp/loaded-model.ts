import type {
  ChatWrapper,
  GgufInsights,
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaEmbeddingContext,
  LlamaModel,
  ResolvableChatWrapperTypeName,
} from 'node-llama-cpp'
import type { LlamaConfig } from '../../config/schema.js'
import type { LocalModel } from './discovery.js'
import { nodeLlamaCpp, takeEngineErrors } from './engine.js'
import { clientClosedRequest, modelLoadFailed, queueFull } from './errors.js'
import { SlotQueue } from './slot-queue.js'

export const DEFAULT_CONTEXT_SIZE = 4096
export const DEFAULT_SEQUENCES = 2

/** Architectures that only encode (BERT family): served for embeddings, not for text. */
const ENCODER_ONLY = new Set([
  'bert',
  'nomic-bert',
  'nomic-bert-moe',
  'jina-bert-v2',
  'jina-bert-v3',
  'neo-bert',
  'modern-bert',
  't5encoder',
])

export type ModelSettings = {
  threads: number
  contextSize: number
  sequences: number
  gpuLayers: 'auto' | 'max' | number
  chatTemplate: string
  embeddings: boolean
  maxQueue: number
}

/** What reading a GGUF header tells before loading it: the settings and the memory it will take. */
export type Inspection = {
  local: LocalModel
  llama: Llama
  insights: GgufInsights
  settings: ModelSettings
  generative: boolean
  bytes: number
  /** The generation context's share of `bytes`. */
  contextBytes: number
}

/** Reads the header (fast: no tensor data) and estimates RAM for the weights and the context. */
export async function inspectModel(
  local: LocalModel,
  config: LlamaConfig,
  llama: Llama,
): Promise<Inspection> {
  const { readGgufFileInfo, GgufInsights } = await nodeLlamaCpp()
  let insights: GgufInsights
  try {
    insights = await GgufInsights.from(
      await readGgufFileInfo(local.path, { logWarnings: false }),
      llama,
    )
  } catch (error) {
    throw modelLoadFailed(local.id, local.path, describe(error))
  }
  const options = { ...config.defaults, ...local.options }
  const { resolvableChatWrapperTypeNames } = await nodeLlamaCpp()
  const templates = resolvableChatWrapperTypeNames.filter((name) => name !== 'template')
  if (options.chatTemplate && !(templates as readonly string[]).includes(options.chatTemplate)) {
    throw modelLoadFailed(
      local.id,
      local.path,
      `unknown chatTemplate '${options.chatTemplate}' (one of: ${templates.join(', ')})`,
    )
  }
  const train = insights.trainContextSize ?? DEFAULT_CONTEXT_SIZE
  const settings: ModelSettings = {
    threads: options.threads ?? llama.cpuMathCores,
    contextSize: Math.min(options.contextSize ?? DEFAULT_CONTEXT_SIZE, train),
    sequences: options.sequences ?? DEFAULT_SEQUENCES,
    gpuLayers: config.gpu === false ? 0 : (options.gpuLayers ?? 'auto'),
    chatTemplate: options.chatTemplate ?? 'auto',
    embeddings: options.embeddings ?? true,
    maxQueue: config.maxQueue,
  }
  const metadata = insights.ggufFileInfo
  const architecture = String(metadata.metadata?.general?.architecture ?? '')
  const causal = (metadata.architectureMetadata as { attention?: { causal?: boolean } }).attention
    ?.causal
  const generative = !ENCODER_ONLY.has(architecture) && causal !== false
  const gpuLayers = typeof settings.gpuLayers === 'number' ? settings.gpuLayers : 0
  // without mmap, so the estimate counts the weights' pages that loading brings in
  const weights = await insights.estimateModelResourceRequirementsV2({ gpuLayers, useMmap: false })
  const context = generative
    ? await insights.estimateContextResourceRequirementsV2({
        contextSize: settings.contextSize,
        sequences: settings.sequences,
        modelGpuLayers: gpuLayers,
      })
    : { cpuRam: 0 }
  return {
    local,
    llama,
    insights,
    settings,
    generative,
    bytes: weights.cpuRam + context.cpuRam,
    contextBytes: context.cpuRam,
  }
}

export type Generation = { context: LlamaContext; slots: SlotQueue<LlamaContextSequence> }

/**
 * Contexts with a LoRA adapter kept per loaded model; past it, the least recently used idle one
 * is disposed. Its adapter's weights stay in llama.cpp until the base model itself unloads
 * (node-llama-cpp keeps adapters per model): small next to the context (r = 8: a few MB at 0.5B).
 */
export const MAX_ADAPTER_CONTEXTS = 4

type AdapterEntry = { generation: Promise<Generation>; lastUsed: number }

/**
 * One model in memory: the weights, a context whose sequences are the parallel slots for text
 * generation, and (on first use) an embedding context. Loaded by the pool, never directly.
 */
export class LoadedModel {
  private wrapper: ChatWrapper | undefined
  private vocabulary: number | undefined
  private readonly adapters = new Map<string, AdapterEntry>()
  private embeddingContext:
    Promise<{ context: LlamaEmbeddingContext; queue: SlotQueue<LlamaEmbeddingContext> }> | undefined

  /** Estimated RAM of the embedding context, once created (the pool counts it in the budget). */
  embeddingBytes = 0

  private constructor(
    readonly id: string,
    readonly model: LlamaModel,
    readonly settings: ModelSettings,
    readonly generative: boolean,
    private readonly generationState: Generation | undefined,
    private readonly insights: GgufInsights,
    /** Estimated RAM of one generation context (the pool counts adapter contexts with it). */
    private readonly contextBytes = 0,
  ) {}

  /** RAM beyond the weights and the main context: the embedding and adapter contexts. */
  get extraBytes(): number {
    return this.embeddingBytes + this.adapters.size * this.contextBytes
  }

  static async load(inspection: Inspection): Promise<LoadedModel> {
    const { local, llama, settings } = inspection
    takeEngineErrors()
    let model: LlamaModel
    try {
      model = await llama.loadModel({ modelPath: local.path, gpuLayers: settings.gpuLayers })
    } catch (error) {
      throw modelLoadFailed(
        local.id,
        local.path,
        [describe(error), ...(await engineErrors())].join(': '),
      )
    }
    if (!inspection.generative)
      return new LoadedModel(local.id, model, settings, false, undefined, inspection.insights)
    try {
      const generation = await createGeneration(model, local.id, settings)
      return new LoadedModel(
        local.id,
        model,
        settings,
        true,
        generation,
        inspection.insights,
        inspection.contextBytes,
      )
    } catch (error) {
      await model.dispose()
      throw modelLoadFailed(
        local.id,
        local.path,
        `cannot create its context: ${[describe(error), ...(await engineErrors())].join(': ')}`,
      )
    }
  }

  get contextSize(): number {
    return this.generationState?.context.contextSize ?? this.settings.contextSize
  }

  /**
   * The base model's generation, or a context of its own with the LoRA adapter at `adapterPath`
   * (created on first use: 4-8 ms on stories260K; several adapters share the loaded weights).
   */
  async generation(adapterPath?: string): Promise<Generation | undefined> {
    if (!adapterPath || !this.generationState) return this.generationState
    let entry = this.adapters.get(adapterPath)
    if (!entry) {
      this.evictAdapterContexts(MAX_ADAPTER_CONTEXTS - 1)
      const generation = createGeneration(this.model, this.id, this.settings, adapterPath).catch(
        async (error) => {
          throw modelLoadFailed(
            this.id,
            adapterPath,
            `its LoRA adapter did not load: ${[describe(error), ...(await engineErrors())].join(': ')}`,
          )
        },
      )
      entry = { generation, lastUsed: Date.now() }
      this.adapters.set(adapterPath, entry)
      generation.catch(() => this.adapters.delete(adapterPath))
    }
    entry.lastUsed = Date.now()
    return entry.generation
  }

  /** Disposes the adapter's context (now if idle, else once its requests end). */
  dropAdapter(adapterPath: string) {
    const entry = this.adapters.get(adapterPath)
    if (!entry) return
    this.adapters.delete(adapterPath)
    void disposeWhenIdle(entry.generation)
  }

  /**
   * Drops the least recently used adapter contexts until at most `keep` remain (one still
   * answering a request is disposed when that request ends).
   */
  private evictAdapterContexts(keep: number) {
    const idle = [...this.adapters.entries()].sort((a, b) => a[1].lastUsed - b[1].lastUsed)
    while (this.adapters.size > keep && idle.length) {
      const [path] = idle.shift()!
      this.dropAdapter(path)
    }
  }

  /** The free-or-queued sequences of this model (undefined for an embedding-only model). */
  get slots(): SlotQueue<LlamaContextSequence> | undefined {
    return this.generationState?.slots
  }

  get threads(): number {
    return this.generationState?.context.idealThreads ?? this.settings.threads
  }

  get vocabularySize(): number {
    if (this.vocabulary === undefined) {
      let count = 0
      for (const _ of this.model.iterateAllTokens()) count++
      this.vocabulary = count
    }
    return this.vocabulary
  }

  /** The chat template, from the GGUF metadata when it has one (see chat-template.ts). */
  async chatWrapper(): Promise<ChatWrapper> {
    if (!this.wrapper) {
      const { resolveChatWrapper } = await nodeLlamaCpp()
      const type = this.settings.chatTemplate as Exclude<ResolvableChatWrapperTypeName, 'template'>
      this.wrapper = resolveChatWrapper(this.model, {
        type,
        warningLogs: false,
        fallbackToOtherWrappersOnJinjaError: true,
      })
    }
    return this.wrapper
  }

  /** The embedding context, created on first use; one embedding runs at a time, the rest queue. */
  embeddings(): Promise<{
    context: LlamaEmbeddingContext
    queue: SlotQueue<LlamaEmbeddingContext>
  }> {
    this.embeddingContext ??= (async () => {
      const { contextSize, threads, maxQueue } = this.settings
      const context = await this.model.createEmbeddingContext({ threads, contextSize })
      const estimate = await this.insights.estimateContextResourceRequirementsV2({
        contextSize,
        modelGpuLayers: this.model.gpuLayers,
        isEmbeddingContext: true,
      })
      this.embeddingBytes = estimate.cpuRam
      return {
        context,
        queue: new SlotQueue(
          [context],
          maxQueue,
          (waiting) => queueFull(this.id, waiting),
          clientClosedRequest,
        ),
      }
    })()
    this.embeddingContext.catch(() => (this.embeddingContext = undefined))
    return this.embeddingContext
  }

  async dispose() {
    const adapters = [...this.adapters.values()]
    this.adapters.clear()
    for (const entry of adapters) {
      const generation = await entry.generation.catch(() => undefined)
      generation?.slots.rejectAll(new Error(`model ${this.id} was unloaded`))
      await generation?.context.dispose()
    }
    this.generationState?.slots.rejectAll(new Error(`model ${this.id} was unloaded`))
    const embedding = await this.embeddingContext?.catch(() => undefined)
    await embedding?.context.dispose()
    await this.generationState?.context.dispose()
    await this.model.dispose()
  }
}

/** A generation context: the model's sequences as queued slots, with an adapter or without. */
async function createGeneration(
  model: LlamaModel,
  id: string,
  settings: ModelSettings,
  adapterPath?: string,
): Promise<Generation> {
  // A token queued for decoding is dispatched at once when it is the only sequence at work,
  // so llama.cpp decodes it (in its own thread) while Plinth streams the previous one; with
  // several at work, node-llama-cpp's next-cycle dispatch lets their tokens share a batch.
  let slots: SlotQueue<LlamaContextSequence>
  const context = await model.createContext({
    // always explicit: llama.cpp's own default (4 threads on a 2-core box) ran ~200x slower
    threads: settings.threads,
    contextSize: settings.contextSize,
    sequences: settings.sequences,
    failedCreationRemedy: false,
    lora: adapterPath ? { adapters: [{ filePath: adapterPath }] } : undefined,
    batching: {
      dispatchSchedule: (dispatch) =>
        slots.busy <= 1 ? queueMicrotask(dispatch) : setImmediate(dispatch),
    },
  })
  const sequences = Array.from({ length: settings.sequences }, () => context.getSequence())
  slots = new SlotQueue(
    sequences,
    settings.maxQueue,
    (waiting) => queueFull(id, waiting),
    clientClosedRequest,
  )
  return { context, slots }
}

/** Disposes a generation once no request holds one of its sequences. */
async function disposeWhenIdle(pending: Promise<Generation>) {
  const generation = await pending.catch(() => undefined)
  if (!generation) return
  while (generation.slots.busy > 0 || generation.slots.waiting > 0)
    await new Promise((resolve) => setTimeout(resolve, 50))
  await generation.context.dispose()
}

/**
 * llama.cpp's log lines about a failure reach JavaScript a moment after the failure itself (the
 * native logger posts them to the event loop), so they are collected after a short wait.
 */
async function engineErrors(): Promise<string[]> {
  await new Promise((resolve) => setTimeout(resolve, 50))
  const lines = takeEngineErrors().filter((line) => !/failed to load model$/i.test(line))
  return lines.length ? lines : ['the file may be corrupt or incomplete (see the server log)']
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
