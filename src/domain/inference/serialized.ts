/**
 * Chunks a provider already wrote out as SSE frames (`data: {...}\n\n`, the passthrough of an
 * OpenAI-compatible upstream): the API layer sends them as they are.
 */
export class SerializedChunks {
  constructor(readonly frames: string) {}

  /** The chunks as objects, for callers that read them (a run's turn); `[DONE]` is left out. */
  objects(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = []
    for (const line of this.frames.split('\n')) {
      if (!line.startsWith('data:')) continue
      const data = line.slice(5).trim()
      if (data && data !== '[DONE]') out.push(JSON.parse(data) as Record<string, unknown>)
    }
    return out
  }
}

/** A chat stream as chunk objects, passthrough frames parsed. */
export async function* chunkObjects(
  chunks: AsyncIterable<Record<string, unknown> | SerializedChunks>,
): AsyncGenerator<Record<string, unknown>> {
  for await (const chunk of chunks) {
    if (chunk instanceof SerializedChunks) yield* chunk.objects()
    else yield chunk
  }
}
