import type { AppContext } from '../../context.js'
import { missingParameter } from '../../errors.js'
import { readJson, readQuery } from '../../http/body.js'
import type { RouteDef } from '../../http/routes.js'
import {
  CertificateGetQuery,
  CertificateListQuery,
  CertificateModifyParams,
  CertificateToggleParams,
  CertificateUploadParams,
} from '../../schemas/organization.js'
import { bodyLimit } from '../shared.js'

/** The Certificates API (mutual TLS): the organization's certificates and their activation. */
export function certificatesRoutes(ctx: AppContext): RouteDef[] {
  const { certificates } = ctx.services.admin
  const base = '/organization/certificates'
  const project = '/organization/projects/{project_id}/certificates'
  const toggle = (active: boolean): RouteDef['handler'] => async (c) => {
    const { certificate_ids } = await readJson(c, CertificateToggleParams, bodyLimit(ctx))
    return c.json(await certificates.toggleForOrganization(c.var.principal, certificate_ids, active))
  }
  const toggleProject = (active: boolean): RouteDef['handler'] => async (c) => {
    const { certificate_ids } = await readJson(c, CertificateToggleParams, bodyLimit(ctx))
    const id = c.req.param('project_id')!
    return c.json(await certificates.toggleForProject(c.var.principal, id, certificate_ids, active))
  }
  return [
    {
      // spec: listOrganizationCertificates (newest first by default)
      method: 'GET',
      path: base,
      operationId: 'listOrganizationCertificates',
      scope: 'admin',
      handler: async (c) =>
        c.json(await certificates.list(c.var.principal, readQuery(c, CertificateListQuery))),
    },
    {
      // spec: uploadCertificate (not activated)
      method: 'POST',
      path: base,
      operationId: 'uploadCertificate',
      scope: 'admin',
      handler: async (c) => {
        const body = await readJson(c, CertificateUploadParams, bodyLimit(ctx))
        const pem = body.certificate ?? body.content
        if (pem === undefined) throw missingParameter('certificate')
        return c.json(await certificates.upload(c.var.principal, { name: body.name, pem }))
      },
    },
    {
      // spec: activateOrganizationCertificates
      method: 'POST',
      path: `${base}/activate`,
      operationId: 'activateOrganizationCertificates',
      scope: 'admin',
      handler: toggle(true),
    },
    {
      // spec: deactivateOrganizationCertificates
      method: 'POST',
      path: `${base}/deactivate`,
      operationId: 'deactivateOrganizationCertificates',
      scope: 'admin',
      handler: toggle(false),
    },
    {
      // spec: getCertificate (the PEM only with include[]=content)
      method: 'GET',
      path: `${base}/{certificate_id}`,
      operationId: 'getCertificate',
      scope: 'admin',
      handler: async (c) => {
        const { include } = readQuery(c, CertificateGetQuery)
        const withContent = include?.includes('content') ?? false
        return c.json(
          await certificates.get(c.var.principal, c.req.param('certificate_id')!, withContent),
        )
      },
    },
    {
      // spec: modifyCertificate (only the name)
      method: 'POST',
      path: `${base}/{certificate_id}`,
      operationId: 'modifyCertificate',
      scope: 'admin',
      handler: async (c) => {
        const { name } = await readJson(c, CertificateModifyParams, bodyLimit(ctx))
        return c.json(await certificates.modify(c.var.principal, c.req.param('certificate_id')!, name))
      },
    },
    {
      // spec: deleteCertificate (inactive everywhere first)
      method: 'DELETE',
      path: `${base}/{certificate_id}`,
      operationId: 'deleteCertificate',
      scope: 'admin',
      handler: async (c) =>
        c.json(await certificates.delete(c.var.principal, c.req.param('certificate_id')!)),
    },
    {
      // spec: listProjectCertificates
      method: 'GET',
      path: project,
      operationId: 'listProjectCertificates',
      scope: 'admin',
      handler: async (c) =>
        c.json(
          await certificates.listForProject(
            c.var.principal,
            c.req.param('project_id')!,
            readQuery(c, CertificateListQuery),
          ),
        ),
    },
    {
      // spec: activateProjectCertificates
      method: 'POST',
      path: `${project}/activate`,
      operationId: 'activateProjectCertificates',
      scope: 'admin',
      handler: toggleProject(true),
    },
    {
      // spec: deactivateProjectCertificates
      method: 'POST',
      path: `${project}/deactivate`,
      operationId: 'deactivateProjectCertificates',
      scope: 'admin',
      handler: toggleProject(false),
    },
  ]
}
