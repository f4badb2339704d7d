import type { AppContext } from '../context.js'
import { requiredProperty } from '../errors.js'
import { readJson } from '../http/body.js'
import { readMultipart } from '../http/multipart.js'
import { requestSignal } from '../http/node-request.js'
import type { RouteDef } from '../http/routes.js'
import { UploadCompleteParams, uploadCreateParams } from '../schemas/uploads.js'
import { bodyLimit, projectPrincipal } from './shared.js'

export function uploadsRoutes(ctx: AppContext): RouteDef[] {
  const { uploads } = ctx.services
  const createParams = uploadCreateParams(ctx.config.files.maxUploadBytes)
  return [
    {
      // spec: createUpload
      method: 'POST',
      path: '/uploads',
      operationId: 'createUpload',
      scope: 'project',
      handler: async (c) =>
        c.json(
          await uploads.create(
            projectPrincipal(c),
            await readJson(c, createParams, bodyLimit(ctx)),
          ),
        ),
    },
    {
      // spec: addUploadPart
      method: 'POST',
      path: '/uploads/{upload_id}/parts',
      operationId: 'addUploadPart',
      scope: 'project',
      handler: async (c) => {
        const uploadId = c.req.param('upload_id')!
        // an unknown or finished upload is refused before any of the part is read
        await uploads.checkPending(projectPrincipal(c), uploadId)
        const form = await readMultipart(c.req.raw, {
          signal: requestSignal(c),
          files: { data: { limit: ctx.config.files.maxPartBytes } },
          fields: [],
          receive: (data) => uploads.stagePart(data),
          release: (staged) => uploads.discardPart(staged),
        })
        const part = form.files[0]
        try {
          if (!part) throw requiredProperty('data')
          return c.json(await uploads.addPart(projectPrincipal(c), uploadId, part.value))
        } finally {
          if (part) await uploads.discardPart(part.value)
        }
      },
    },
    {
      // spec: completeUpload
      method: 'POST',
      path: '/uploads/{upload_id}/complete',
      operationId: 'completeUpload',
      scope: 'project',
      handler: async (c) => {
        const params = await readJson(c, UploadCompleteParams, bodyLimit(ctx))
        return c.json(
          await uploads.complete(projectPrincipal(c), c.req.param('upload_id')!, params),
        )
      },
    },
    {
      // spec: cancelUpload
      method: 'POST',
      path: '/uploads/{upload_id}/cancel',
      operationId: 'cancelUpload',
      scope: 'project',
      handler: async (c) =>
        c.json(await uploads.cancel(projectPrincipal(c), c.req.param('upload_id')!)),
    },
  ]
}
