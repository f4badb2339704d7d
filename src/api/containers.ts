import type { AppContext } from '../context.js'
import { requiredProperty } from '../errors.js'
import { readJson, readQuery } from '../http/body.js'
import { readMultipart } from '../http/multipart.js'
import { requestSignal } from '../http/node-request.js'
import type { RouteDef } from '../http/routes.js'
import { ContainerCreateParams, ContainerFileCreateParams, ContainerFileListQuery, ContainerListQuery } from '../schemas/containers.js'
import { bodyLimit, projectPrincipal, sendDownload } from './shared.js'

/**
 * The Containers API (docs/code-interpreter.md, "Containers"): newer than the spec file, served
 * as SDK 6 calls it (containers.*, containers.files.*), so every route is an extension.
 */
export function containersRoutes(ctx: AppContext): RouteDef[] {
  const { containers, files } = ctx.services
  const id = (c: { req: { param(name: string): string | undefined } }) => c.req.param('container_id')!
  const fileId = (c: { req: { param(name: string): string | undefined } }) => c.req.param('file_id')!
  return [
    {
      method: 'POST',
      path: '/containers',
      operationId: 'containers.create',
      scope: 'project',
      extension: true,
      handler: async (c) => c.json(await containers.create(projectPrincipal(c), await readJson(c, ContainerCreateParams, bodyLimit(ctx)))),
    },
    {
      method: 'GET',
      path: '/containers',
      operationId: 'containers.list',
      scope: 'project',
      extension: true,
      handler: async (c) => c.json(await containers.list(projectPrincipal(c), readQuery(c, ContainerListQuery))),
    },
    {
      method: 'GET',
      path: '/containers/{container_id}',
      operationId: 'containers.retrieve',
      scope: 'project',
      extension: true,
      handler: async (c) => c.json(await containers.get(projectPrincipal(c), id(c))),
    },
    {
      method: 'DELETE',
      path: '/containers/{container_id}',
      operationId: 'containers.delete',
      scope: 'project',
      extension: true,
      handler: async (c) => c.json(await containers.delete(projectPrincipal(c), id(c))),
    },
    {
      // multipart with the file's bytes (streamed to a blob, as the Files API does), or JSON
      // naming an uploaded File
      method: 'POST',
      path: '/containers/{container_id}/files',
      operationId: 'containers.files.create',
      scope: 'project',
      extension: true,
      handler: async (c) => {
        const principal = projectPrincipal(c)
        if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('multipart/form-data')) {
          const { file_id } = await readJson(c, ContainerFileCreateParams, bodyLimit(ctx))
          return c.json(await containers.addFile(principal, id(c), file_id))
        }
        // the container is checked first: an unknown or expired one is not sent the upload
        await containers.check(principal.projectId, id(c))
        const form = await readMultipart(c.req.raw, {
          signal: requestSignal(c),
          files: { file: { limit: ctx.config.files.maxFileBytes } },
          fields: ['file_id'],
          receive: (data) => files.stage(data),
          release: (staged) => files.discard(staged),
        })
        const file = form.files[0]
        try {
          if (!file) {
            if (form.fields.file_id !== undefined) return c.json(await containers.addFile(principal, id(c), form.fields.file_id))
            throw requiredProperty('file')
          }
          return c.json(await containers.addUpload(principal, id(c), file.filename || 'file', file.value))
        } finally {
          if (file) await files.discard(file.value)
        }
      },
    },
    {
      method: 'GET',
      path: '/containers/{container_id}/files',
      operationId: 'containers.files.list',
      scope: 'project',
      extension: true,
      handler: async (c) => c.json(await containers.listFiles(projectPrincipal(c), id(c), readQuery(c, ContainerFileListQuery))),
    },
    {
      method: 'GET',
      path: '/containers/{container_id}/files/{file_id}',
      operationId: 'containers.files.retrieve',
      scope: 'project',
      extension: true,
      handler: async (c) => c.json(await containers.getFile(projectPrincipal(c), id(c), fileId(c))),
    },
    {
      method: 'DELETE',
      path: '/containers/{container_id}/files/{file_id}',
      operationId: 'containers.files.delete',
      scope: 'project',
      extension: true,
      handler: async (c) => c.json(await containers.deleteFile(projectPrincipal(c), id(c), fileId(c))),
    },
    {
      method: 'GET',
      path: '/containers/{container_id}/files/{file_id}/content',
      operationId: 'containers.files.content.retrieve',
      scope: 'project',
      extension: true,
      handler: async (c) => sendDownload(c, await containers.fileContent(projectPrincipal(c), id(c), fileId(c))),
    },
  ]
}
