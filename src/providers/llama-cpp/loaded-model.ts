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
  return { local, llama, insights, settings, generative, bytes: weights.cpuRam + context.cpuRam }
}

type Generation = { context: LlamaContext; slots: SlotQueue<LlamaContextSequence> }

/**
 * One model in memory: the weights, a context whose sequences are the parallel slots for text
 * generation, and (on first use) an embedding context. Loaded by the pool, never directly.
 */
export class LoadedModel {
  private wrapper: ChatWrapper | undefined
  private vocabulary: number | undefined
  private embeddingContext:
    Promise<{ context: LlamaEmbeddingContext; queue: SlotQueue<LlamaEmbeddingContext> }> | undefined

  /** Estimated RAM of the embedding context, once created (the pool counts it in the budget). */
  embeddingBytes = 0

  private constructor(
    readonly id: string,
    readonly model: LlamaModel,
    readonly settings: ModelSettings,
    readonly generative: boolean,
    private readonly generation: Generation | undefined,
    private readonly insights: GgufInsights,
  ) {}

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
        batching: {
          dispatchSchedule: (dispatch) =>
            slots.busy <= 1 ? queueMicrotask(dispatch) : setImmediate(dispatch),
        },
      })
      const sequences = Array.from({ length: settings.sequences }, () => context.getSequence())
      slots = new SlotQueue(
        sequences,
        settings.maxQueue,
        (waiting) => queueFull(local.id, waiting),
        clientClosedRequest,
      )
      return new LoadedModel(
        local.id,
        model,
        settings,
        true,
        { context, slots },
        inspection.insights,
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
    return this.generation?.context.contextSize ?? this.settings.contextSize
  }

  /** The free-or-queued sequences of this model (undefined for an embedding-only model). */
  get slots(): SlotQueue<LlamaContextSequence> | undefined {
    return this.generation?.slots
  }

  get threads(): number {
    return this.generation?.context.idealThreads ?? this.settings.threads
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
    this.generation?.slots.rejectAll(new Error(`model ${this.id} was unloaded`))
    const embedding = await this.embeddingContext?.catch(() => undefined)
    await embedding?.context.dispose()
    await this.generation?.context.dispose()
    await this.model.dispose()
  }
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
