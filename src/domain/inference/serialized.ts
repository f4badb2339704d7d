/**
 * Chunks a provider already wrote out as SSE frames (`data: {...}\n\n`, the passthrough of an
 * OpenAI-compatible upstream): the API layer sends them as they are.
 */
export class SerializedChunks {
  constructor(readonly frames: string) {}
}
