import type { AppContext } from '../context.js'
import { SpeechService } from '../domain/inference/speech.js'
import { readJson } from '../http/body.js'
import { requestSignal } from '../http/node-request.js'
import type { RouteDef } from '../http/routes.js'
import { SpeechCreateParams } from '../schemas/speech.js'
import { rateLimited } from './rate-limited.js'
import { bodyLimit, projectPrincipal } from './shared.js'

// Node 20 has ReadableStream.from; the DOM-less lib types here do not declare it yet
const webStream = (source: AsyncIterable<Uint8Array>) =>
  (ReadableStream as unknown as { from(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> }).from(source)

/** createSpeech: the audio goes out chunked as it is made (no Content-Length). */
export function speechRoutes(ctx: AppContext): RouteDef[] {
  const speech = new SpeechService(ctx.providers, ctx.services.usage)
  return [
    {
      method: 'POST',
      path: '/audio/speech',
      operationId: 'createSpeech',
      scope: 'project',
      handler: async (c) => {
        const params = await readJson(c, SpeechCreateParams, bodyLimit(ctx))
        return rateLimited(c, ctx, params.model, {}, async (limit) => {
          const answer = await speech.create(projectPrincipal(c), params, { signal: requestSignal(c), limit })
          // ReadableStream.from: cancelling the body (the client left) returns the iterator,
          // which stops the engines (see the architecture notes on Readable.toWeb)
          return c.body(webStream(answer.chunks), 200, { 'content-type': answer.contentType, 'cache-control': 'no-cache' })
        })
      },
    },
  ]
}
