import type { Context } from 'hono'
import type { AppContext } from '../context.js'
import type { AppEnv } from '../http/env.js'
import { toApiError } from '../http/render-error.js'
import { primedSse, type SseEvent, type SseOptions } from '../http/sse.js'
import { SerializedChunks } from '../domain/inference/serialized.js'
import type { ProjectPrincipal } from '../principal.js'

export function projectPrincipal(c: Context<AppEnv>): ProjectPrincipal {
  return c.var.principal as ProjectPrincipal
}

/** A chat/completions-style stream: `data:` chunks, `data: [DONE]`, errors as `data: {"error":...}`. */
export function chunkStream(c: Context<AppEnv>, chunks: AsyncIterable<unknown>): Promise<Response> {
  return primedSse(c, chunkEvents(chunks), chunkSseOptions(c.var.requestId))
}

/** A chunk's frames, as chunkEvents makes them: the fast path's writer maps chunks with it directly. */
export function chunkFrame(chunk: unknown): string {
  if (chunk instanceof SerializedChunks) return chunk.frames
  return `data: ${typeof chunk === 'string' ? chunk : JSON.stringify(chunk)}\n\n`
}

/** Chunks as `data:` events; frames a provider passed through go as they are. */
export async function* chunkEvents(chunks: AsyncIterable<unknown>): AsyncGenerator<SseEvent> {
  for await (const chunk of chunks) {
    if (chunk instanceof SerializedChunks) yield { raw: chunk.frames }
    else yield { data: chunk }
  }
}

export function chunkSseOptions(requestId: string): SseOptions {
  return { end: 'data-done', errorEvent: 'data', toApiError: (error) => toApiError(error, requestId) }
}

export function bodyLimit(ctx: AppContext): number {
  return ctx.config.server.bodyLimitBytes
}
