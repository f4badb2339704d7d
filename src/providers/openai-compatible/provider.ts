import type { UpstreamConfig } from '../../config/schema.js'
import { ProviderError } from '../../errors.js'
import type { GenerateCall, ModelCard, Provider, StreamPart } from '../provider.js'

// @TODO(foundation): being written; answers 502 until then.
export class OpenAICompatibleProvider implements Provider {
  readonly id: string
  constructor(
    readonly upstream: UpstreamConfig,
    private readonly apiKey: string | undefined,
  ) {
    this.id = `openai-compatible:${upstream.id}`
  }
  async listModels(): Promise<ModelCard[]> {
    return []
  }
  // eslint-disable-next-line require-yield
  async *stream(_call: GenerateCall): AsyncGenerator<StreamPart> {
    throw new ProviderError(502, 'openai-compatible provider not built yet')
  }
}
