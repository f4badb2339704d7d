import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import type { Context } from 'hono'
import type { AppContext } from '../context.js'
import { TranscriptionsService, type AudioTextAnswer, type AudioUpload, type TranscriptionTask } from '../domain/audio/transcriptions.js'
import { fileRequired } from '../domain/audio/transcription-errors.js'
import { validate } from '../http/body.js'
import type { AppEnv } from '../http/env.js'
import { readMultipart, type FormFile } from '../http/multipart.js'
import { requestSignal } from '../http/node-request.js'
import type { RouteDef } from '../http/routes.js'
import { primedSse, type SseEvent } from '../http/sse.js'
import {
  MAX_AUDIO_BYTES,
  TRANSCRIPTION_FIELDS,
  TRANSLATION_FIELDS,
  TranscriptionFields,
  TranslationFields,
  gatherChunkingStrategy,
  type AudioTextParams,
} from '../schemas/transcriptions.js'
import { rateLimited } from './rate-limited.js'
import { chunkSseOptions, projectPrincipal } from './shared.js'

// Node 20 has ReadableStream.from; the DOM-less lib types here do not declare it yet
const webStream = (source: AsyncIterable<Uint8Array>) =>
  (ReadableStream as unknown as { from(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> }).from(source)

const MIB = 1024 * 1024
/** A speaker sample as a data URL: 10 s of 16 kHz 16-bit wav is 427 KB in base64. */
const MAX_SPEAKER_SAMPLE_BYTES = 2 * MIB

/** createTranscription and createTranslation: a multipart upload of audio, answered as text. */
export function audioTranscriptionRoutes(ctx: AppContext): RouteDef[] {
  const service = new TranscriptionsService(ctx.providers, ctx.services.usage)
  const route = (task: TranscriptionTask): RouteDef => ({
    method: 'POST',
    path: task === 'translate' ? '/audio/translations' : '/audio/transcriptions',
    operationId: task === 'translate' ? 'createTranslation' : 'createTranscription',
    scope: 'project',
    handler: (c) => handle(c, ctx, service, task),
  })
  return [route('transcribe'), route('translate')]
}

type Staged = { path: string; bytes: number }

async function handle(c: Context<AppEnv>, ctx: AppContext, service: TranscriptionsService, task: TranscriptionTask): Promise<Response> {
  const signal = requestSignal(c)
  const form = await readMultipart<Staged>(c.req.raw, {
    signal,
    files: { file: { limit: MAX_AUDIO_BYTES } },
    fields: task === 'translate' ? TRANSLATION_FIELDS : TRANSCRIPTION_FIELDS,
    // speaker samples are data URLs of 2-10 s of audio: well over the 64 KiB of a text field
    longFields: task === 'translate' ? undefined : { 'known_speaker_references[]': { bytes: MAX_SPEAKER_SAMPLE_BYTES, repeat: 4 } },
    receive: (data, info) => stage(data, info.filename),
    release: (staged) => discard(staged),
  })
  const file = form.files[0] as FormFile<Staged> | undefined
  // the upload is removed when the answer is complete: a streamed answer still decodes it
  let handedOff = false
  try {
    const fields: Record<string, unknown> = { ...form.fields }
    for (const [name, values] of Object.entries(form.lists)) fields[name.slice(0, -2)] = values
    const params: AudioTextParams =
      task === 'translate' ? { include: [], ...validate(TranslationFields, fields) } : validate(TranscriptionFields, gatherChunkingStrategy(fields))
    if (!file) throw fileRequired()
    const audio: AudioUpload = { path: file.value.path, filename: file.filename, contentType: file.contentType, bytes: file.value.bytes }
    const { model: _model, ...passed } = fields as Record<string, string | string[]>
    return await rateLimited(c, ctx, params.model, { audioMegabytes: audio.bytes / MIB }, async () => {
      const answer = await service.create(projectPrincipal(c), { task, params, fields: passed, audio, signal })
      const response = await respond(c, answer, () => discard(file.value))
      handedOff = answer.kind === 'events'
      return response
    })
  } finally {
    if (file && !handedOff) await discard(file.value)
  }
}

async function respond(c: Context<AppEnv>, answer: AudioTextAnswer, done: () => Promise<void>): Promise<Response> {
  if (answer.kind === 'body') return c.body(answer.body, 200, { 'content-type': answer.contentType })
  if (answer.kind === 'relay') return c.body(webStream(answer.body), 200, { 'content-type': answer.contentType })
  async function* events(source: AsyncIterable<Record<string, unknown>>): AsyncGenerator<SseEvent> {
    try {
      for await (const data of source) yield { data }
    } finally {
      await done()
    }
  }
  // the transcript events are `data:` lines only, and the stream ends with transcript.text.done
  return primedSse(c, events(answer.events), { ...chunkSseOptions(c.var.requestId), end: 'none' })
}

/** Writes the upload to a temporary file, named with its extension (ffmpeg's hint for raw formats). */
async function stage(data: AsyncIterable<Uint8Array>, filename: string): Promise<Staged> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'plinth-audio-'))
  const ext = path.extname(filename).toLowerCase().replace(/[^.a-z0-9]/g, '').slice(0, 8)
  const file = path.join(dir, `upload${ext}`)
  let bytes = 0
  try {
    await pipeline(
      Readable.from(data),
      async function* (source: AsyncIterable<Uint8Array>) {
        for await (const chunk of source) {
          bytes += chunk.byteLength
          yield chunk
        }
      },
      fs.createWriteStream(file),
    )
  } catch (error) {
    await fs.promises.rm(dir, { recursive: true, force: true })
    throw error
  }
  return { path: file, bytes }
}

async function discard(staged: Staged) {
  await fs.promises.rm(path.dirname(staged.path), { recursive: true, force: true })
}
