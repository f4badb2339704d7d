import type { Context } from 'hono'
import type { AppContext } from '../context.js'
import type { AppEnv } from '../http/env.js'
import { toApiError } from '../http/render-error.js'
import { primedSse, type SseEvent, type SseOptions } from '../http/sse.js'
import { SerializedChunks } from '../domain/inference/serialized.js'
import type { ProjectPrincipal } from '../principal.js'
import { parseRange } from '../http/range.js'
import type { FileContent } from '../domain/files/service.js'

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

// Node 20 has ReadableStream.from; the DOM-less lib types here do not declare it yet
export const webStream = (source: AsyncIterable<Uint8Array>) =>
  (ReadableStream as unknown as { from(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> }).from(source)

/** A stored file's bytes as a download: what files and container files (GET .../content) answer. */
export type DownloadContent = Omit<FileContent, 'file'> & { file: { bytes: number } }

/** The download, whole or the `Range` asked for (206), with its headers. */
export async function sendDownload(c: Context<AppEnv>, content: DownloadContent): Promise<Response> {
  const size = content.file.bytes
  const range = parseRange(c.req.header('range'), size)
  const headers: Record<string, string> = {
    'content-type': content.contentType,
    'content-length': String(range ? range.end - range.start + 1 : size),
    'content-disposition': content.disposition,
    'accept-ranges': 'bytes',
  }
  if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`
  // HEAD (served by the GET route) sends no body: Hono drops it uncancelled, which left the file
  // open until garbage collection, so it is not opened at all
  if (c.req.method === 'HEAD') return c.body(null, range ? 206 : 200, headers)
  // ReadableStream.from, not Readable.toWeb: the latter crashes Node 20 on a client disconnect
  // mid-stream (see the architecture notes)
  return c.body(webStream(await content.open(range)), range ? 206 : 200, headers)
}
