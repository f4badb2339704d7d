import type { AppContext } from '../context.js'
import { invalidPurpose, requiredProperty } from '../errors.js'
import { readQuery, validate } from '../http/body.js'
import { nestFields, readMultipart } from '../http/multipart.js'
import { requestSignal } from '../http/node-request.js'
import type { RouteDef } from '../http/routes.js'
import {
  FILE_PURPOSES,
  FileCreateFields,
  FileListQuery,
  type FilePurpose,
} from '../schemas/files.js'
import { projectPrincipal, sendDownload } from './shared.js'

export function filesRoutes(ctx: AppContext): RouteDef[] {
  const { files } = ctx.services
  return [
    {
      // spec: createFile
      method: 'POST',
      path: '/files',
      operationId: 'createFile',
      scope: 'project',
      handler: async (c) => {
        const form = await readMultipart(c.req.raw, {
          signal: requestSignal(c),
          files: { file: { limit: ctx.config.files.maxFileBytes } },
          fields: ['purpose', 'expires_after[anchor]', 'expires_after[seconds]'],
          receive: (data) => files.stage(data),
          release: (staged) => files.discard(staged),
        })
        const file = form.files[0]
        try {
          // the older validator's order and wording (F2, F3): required properties, then purpose
          if (!file) throw requiredProperty('file')
          const purpose = form.fields.purpose
          if (purpose === undefined) throw requiredProperty('purpose')
          if (!FILE_PURPOSES.includes(purpose as FilePurpose))
            throw invalidPurpose(purpose, FILE_PURPOSES)
          const fields = validate(FileCreateFields, nestFields(form.fields))
          const created = await files.create(
            projectPrincipal(c),
            {
              filename: file.filename || 'file',
              purpose: fields.purpose,
              mimeType: file.contentType,
              expiresAfterSeconds: fields.expires_after?.seconds,
            },
            file.value,
          )
          return c.json(created)
        } finally {
          // a no-op once committed; otherwise the bytes of a refused upload go now
          if (file) await files.discard(file.value)
        }
      },
    },
    {
      // spec: listFiles
      method: 'GET',
      path: '/files',
      operationId: 'listFiles',
      scope: 'project',
      handler: async (c) =>
        c.json(await files.list(projectPrincipal(c), readQuery(c, FileListQuery))),
    },
    {
      // spec: retrieveFile
      method: 'GET',
      path: '/files/{file_id}',
      operationId: 'retrieveFile',
      scope: 'project',
      handler: async (c) => c.json(await files.get(projectPrincipal(c), c.req.param('file_id')!)),
    },
    {
      // spec: deleteFile
      method: 'DELETE',
      path: '/files/{file_id}',
      operationId: 'deleteFile',
      scope: 'project',
      handler: async (c) =>
        c.json(await files.delete(projectPrincipal(c), c.req.param('file_id')!)),
    },
    {
      // spec: downloadFile
      method: 'GET',
      path: '/files/{file_id}/content',
      operationId: 'downloadFile',
      scope: 'project',
      handler: async (c) => sendDownload(c, await files.content(projectPrincipal(c), c.req.param('file_id')!)),
    },
  ]
}
