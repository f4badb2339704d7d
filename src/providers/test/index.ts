import { invalidRequest } from '../../errors.js'
import type { EmbedCall, EmbedResult, GenerateCall, ModelCard, Provider, StreamPart } from '../provider.js'
import { countTokens, decodeTokens } from '../tokenizer.js'
import { hashEmbedding, TEST_EMBED_DIMENSIONS } from './embed.js'
import { loadScript, type Script } from './script.js'
import { scriptedStream } from './scripted.js'
import { emitText, lastUserText } from './text.js'

export const TEST_MODELS = {
  echo: 'test-echo',
  scripted: 'test-scripted',
  embed: 'test-embed',
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
    })
    const media = ['audio', 'modalities', 'prediction', 'web_search_options']
    return [
      // echo cannot honour tool or JSON constraints: it only repeats the user
      card(TEST_MODELS.echo, { chat: true, completions: true }, [...media, 'tool_choice', 'response_format', 'function_call']),
      // the deprecated functions protocol is not scripted (it never replies with function_call):
      // `functions` are accepted like tools it may leave unused, forcing a call is refused
      card(TEST_MODELS.scripted, { chat: true, completions: true }, [...media, 'function_call']),
      card(TEST_MODELS.embed, { embeddings: true }),
    ]
  }

  async *stream(call: GenerateCall): AsyncGenerator<StreamPart> {
    if (call.model === TEST_MODELS.scripted) {
      yield* scriptedStream(call, this.script)
      return
    }
    const text = lastUserText(call)
    for (let choice = 0; choice < call.sampling.n; choice++) yield* emitText(call, choice, text)
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
    let inputTokens = 0
    const embeddings = call.inputs.map((input, i) => {
      inputTokens += typeof input === 'string' ? countTokens(input) : input.length
      return hashEmbedding(typeof input === 'string' ? input : decodeInput(input, call.inputs.length > 1 ? `input[${i}]` : 'input'), dimensions)
    })
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
