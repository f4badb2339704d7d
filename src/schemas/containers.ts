import { z } from 'zod'
import { ListQuery } from './shared.js'

/**
 * POST /v1/containers, as SDK 6 types ContainerCreateParams (the spec file has no Containers).
 * `expires_after.minutes` is capped at 20, as OpenAI caps it (`integer_above_max_value`).
 * `network_policy`: the sandbox has no network, so only `disabled` is taken; `skills` are not
 * served (an empty list is taken).
 */
export const ContainerCreateParams = z.strictObject({
  name: z.string(),
  file_ids: z.array(z.string()).optional(),
  expires_after: z
    .strictObject({
      anchor: z.enum(['last_active_at']),
      minutes: z.number().int().min(1).max(20),
    })
    .optional(),
  memory_limit: z.enum(['1g', '4g', '16g', '64g']).optional(),
  network_policy: z.strictObject({ type: z.enum(['disabled']), allowed_domains: z.array(z.string()).optional() }).optional(),
  skills: z.array(z.unknown()).max(0).optional(),
})
export type ContainerCreateParams = z.output<typeof ContainerCreateParams>

/** GET /v1/containers: the cursor list, and `name` (SDK 6's filter by name). */
export const ContainerListQuery = ListQuery.extend({ name: z.string().optional() })

/** POST /v1/containers/{id}/files as JSON: a File of the project to copy in. */
export const ContainerFileCreateParams = z.strictObject({ file_id: z.string() })

export const ContainerFileListQuery = ListQuery
