import { invalidRequest } from '../../errors.js'
import type { ImageCall, ImageResult } from '../image-backend.js'
import type { EmbedCall, EmbedResult, GenerateCall, ModelCard, Provider, StreamPart } from '../provider.js'
import { Pacer } from '../../pacing.js'
import { countTokensAsync, decodeTokens } from '../tokenizer.js'
import { hashEmbedding, TEST_EMBED_DIMENSIONS } from './embed.js'
import { testImages } from './image.js'
import { loadScript, type Script } from './script.js'
import { scriptedStream } from './scripted.js'
import { emitPieces, lastUserText, textPieces } from './text.js'

/**
 * The test models' limits, those of the models they stand in for (docs/models.md): a chat model
 * like gpt-4o (128k context, 16,384 completion tokens), an embedding model like
 * text-embedding-3 (8,192 tokens an input, 300,000 a request).
 */
export const TEST_LIMITS = {
  chat: { contextLength: 128_000, maxOutputTokens: 16_384 },
  embed: { contextLength: 8_192, maxRequestTokens: 300_000 },
} as const

export const TEST_MODELS = {
  echo: 'test-echo',
  scripted: 'test-scripted',
  embed: 'test-embed',
  image: 'test-image',
} as const

const CREATED = 1_704_067_200 // 2024-01-01, fixed so /v1/models is stable

/** Built-in deterministic models, shipped so apps can be tested offline. See docs/models.md. */
export class TestProvider implements Provider {
  readonly id = 'test'
  private readonly script: Script

  constructor(options: { scriptFile?: string } = {}) {
    this.script = loadScript(options.scriptFile)
  }

  async listModels(): Promise<ModelCard[]> {
    const card = (id: string, caps: Partial<ModelCard['capabilities']>, unsupported: string[] = []): ModelCard => ({
      id,
      ownedBy: 'plinth-test',
      created: CREATED,
      capabilities: { chat: false, completions: false, embeddings: false, ...caps },
      unsupportedParameters: unsupported,
      // the legacy endpoint's parameters that only a pass-through upstream honours
      unsupportedCompletionParameters: caps.completions ? ['suffix', 'logit_bias', 'presence_penalty', 'frequency_penalty', 'seed'] : undefined,
      ...(caps.embeddings ? TEST_LIMITS.embed : TEST_LIMITS.chat),
    })
    // none of them reasons: chat's `reasoning_effort` and the Responses API's `reasoning` are
    // refused, as gpt-4o refuses them
    const media = ['audio', 'modalities', 'prediction', 'web_search_options', 'reasoning', 'reasoning_effort']
    return [
      // echo cannot honour tool or JSON constraints: it only repeats the user
      card(TEST_MODELS.echo, { chat: true, completions: true }, [...media, 'tool_choice', 'response_format', 'function_call']),
      // the deprecated functions protocol is not scripted (it never replies with function_call):
      // `functions` are accepted like tools it may leave unused, forcing a call is refused
      card(TEST_MODELS.scripted, { chat: true, completions: true }, [...media, 'function_call']),
      card(TEST_MODELS.embed, { embeddings: true }),
      // a procedural picture from a hash of the prompt, not a trained model (docs/images.md)
      card(TEST_MODELS.image, { images: true }),
    ]
  }

  async *stream(call: GenerateCall): AsyncGenerator<StreamPart> {
    if (call.model === TEST_MODELS.scripted) {
      yield* scriptedStream(call, this.script)
      return
    }
    // the echo is encoded once, however many choices repeat it
    const text = await textPieces(call, lastUserText(call))
    for (let choice = 0; choice < call.sampling.n; choice++) yield* emitPieces(call, choice, text)
  }

  async images(call: ImageCall): Promise<ImageResult> {
    const promptTokens = call.prompt ? await countTokensAsync(call.prompt, { signal: call.signal }) : 0
    return testImages(call, promptTokens)
  }

  async embed(call: EmbedCall): Promise<EmbedResult> {
    const dimensions = call.dimensions ?? TEST_EMBED_DIMENSIONS
    if (dimensions > TEST_EMBED_DIMENSIONS) {
      throw invalidRequest(
        `Invalid 'dimensions': integer above maximum value. Expected a value <= ${TEST_EMBED_DIMENSIONS}, but got ${dimensions} instead.`,
        'dimensions',
        'integer_above_max_value',
      )
    }
    // 2048 inputs of 1536 dimensions are 400k sha256 blocks: paced, so other requests run between
    const pacer = new Pacer()
    let inputTokens = 0
    const embeddings: number[][] = []
    for (const [i, input] of call.inputs.entries()) {
      inputTokens += call.tokenCounts?.[i] ?? (typeof input === 'string' ? await countTokensAsync(input, { signal: call.signal }) : input.length)
      embeddings.push(hashEmbedding(typeof input === 'string' ? input : decodeInput(input, call.inputs.length > 1 ? `input[${i}]` : 'input'), dimensions))
      await pacer.pace(call.signal)
    }
    return { embeddings, usage: { inputTokens } }
  }
}

/** Token ids → text for hashing; an id outside the vocabulary is the client's error, not a 500. */
function decodeInput(tokens: number[], param: string): string {
  try {
    return decodeTokens(tokens)
  } catch {
    throw invalidRequest(`Invalid token in '${param}': the input holds a token id that is not in this model's vocabulary.`, param, 'invalid_value')
  }
}
