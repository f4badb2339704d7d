import type { AppContext } from '../../context.js'
import { readJson, readQuery } from '../../http/body.js'
import { clientAddress } from '../../http/forwarded.js'
import type { RouteDef } from '../../http/routes.js'
import { InviteAcceptParams, InviteCreateParams, OrgListQuery } from '../../schemas/organization.js'
import { bodyLimit } from '../shared.js'

export function invitesRoutes(ctx: AppContext): RouteDef[] {
  const { invites } = ctx.services.admin
  return [
    {
      // spec: list-invites
      method: 'GET',
      path: '/organization/invites',
      operationId: 'list-invites',
      scope: 'admin',
      handler: async (c) => c.json(await invites.list(c.var.principal, readQuery(c, OrgListQuery))),
    },
    {
      // spec: inviteUser. The answer carries Plinth's `accept_token`, shown this once.
      method: 'POST',
      path: '/organization/invites',
      operationId: 'inviteUser',
      scope: 'admin',
      handler: async (c) =>
        c.json(
          await invites.create(
            c.var.principal,
            await readJson(c, InviteCreateParams, bodyLimit(ctx)),
          ),
        ),
    },
    {
      // spec: retrieve-invite
      method: 'GET',
      path: '/organization/invites/{invite_id}',
      operationId: 'retrieve-invite',
      scope: 'admin',
      handler: async (c) => c.json(await invites.get(c.var.principal, c.req.param('invite_id')!)),
    },
    {
      // spec: delete-invite
      method: 'DELETE',
      path: '/organization/invites/{invite_id}',
      operationId: 'delete-invite',
      scope: 'admin',
      handler: async (c) =>
        c.json(await invites.delete(c.var.principal, c.req.param('invite_id')!)),
    },
    {
      // Plinth: there is no e-mail, so the invitee accepts with the invite's one-time token
      // (no API key: the token is the credential). Answers the new user and their admin key.
      method: 'POST',
      path: '/organization/invites/{invite_id}/accept',
      operationId: 'acceptInvite',
      scope: 'public',
      extension: true,
      handler: async (c) => {
        const body = await readJson(c, InviteAcceptParams, bodyLimit(ctx))
        const ip = clientAddress(c, ctx.config.server.trustProxy)
        const accepted = await invites.accept(
          { ...body, inviteId: c.req.param('invite_id')! },
          { ip },
        )
        return c.json(accepted)
      },
    },
  ]
}
