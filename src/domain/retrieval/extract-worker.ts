import { parentPort } from 'node:worker_threads'
import { chunkText, pack, TooManyTokens, type Chunking, type PackedChunks } from './chunking.js'
import { ExtractError, extractText } from './extract/extract.js'

/** A file to read and cut into chunks, sent by the Extractor (extractor.ts). */
export type ExtractTask = {
  id: number
  bytes: Uint8Array
  filename: string
  chunking: Chunking
  maxTokens: number
}

export type ExtractReply =
  | { id: number; packed: PackedChunks }
  | { id: number; error: { code: 'unsupported_file' | 'invalid_file' | 'server_error'; message: string } }

/**
 * The extraction worker: parsing a PDF or tokenizing a large text takes seconds of CPU, which
 * would stall every request on the main thread. Here it runs apart, one file at a time.
 */
export async function handle(task: ExtractTask): Promise<ExtractReply> {
  try {
    const text = await extractText(task.bytes, task.filename)
    if (!text) {
      return {
        id: task.id,
        error: { code: 'invalid_file', message: `The file ${task.filename} holds no text to index (it is empty, or no text could be extracted from it).` },
      }
    }
    return { id: task.id, packed: pack(chunkText(text, task.chunking, task.maxTokens)) }
  } catch (error) {
    if (error instanceof ExtractError) return { id: task.id, error: { code: error.code, message: error.message } }
    if (error instanceof TooManyTokens) return { id: task.id, error: { code: 'invalid_file', message: error.message } }
    return { id: task.id, error: { code: 'server_error', message: `The file could not be processed: ${(error as Error).message}` } }
  }
}

parentPort?.on('message', (task: ExtractTask) => {
  void handle(task).then((reply) => {
    const transfer = 'packed' in reply ? [reply.packed.ends.buffer, reply.packed.tokens.buffer] : []
    parentPort!.postMessage(reply, transfer as ArrayBuffer[])
  })
})
