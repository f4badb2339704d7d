import { z } from 'zod'
import { ToolResourcesCreate, ToolResourcesUpdate, type ToolResources } from './assistants.js'
import { MessageCreateV1, MessageCreateV2 } from './messages.js'
import { Metadata } from './shared.js'

// Wire contract of /v1/threads (without runs), v2 and v1 (docs/assistants.md).

export const ThreadCreateV2 = z.strictObject({
  messages: z.array(MessageCreateV2).optional(),
  tool_resources: ToolResourcesCreate.nullish(),
  metadata: Metadata.nullish(),
})
export type ThreadCreateV2 = z.output<typeof ThreadCreateV2>

export const ThreadUpdateV2 = z.strictObject({
  tool_resources: ToolResourcesUpdate.nullish(),
  metadata: Metadata.nullish(),
})
export type ThreadUpdateV2 = z.output<typeof ThreadUpdateV2>

/** v1 threads have no tool resources: files ride on their messages. */
export const ThreadCreateV1 = z.strictObject({
  messages: z.array(MessageCreateV1).optional(),
  metadata: Metadata.nullish(),
})
export type ThreadCreateV1 = z.output<typeof ThreadCreateV1>

export const ThreadUpdateV1 = z.strictObject({ metadata: Metadata.nullish() })
export type ThreadUpdateV1 = z.output<typeof ThreadUpdateV1>

/** The wire's thread object (v1 has no tool_resources). */
export type ThreadObject = {
  id: string
  object: 'thread'
  created_at: number
  tool_resources?: ToolResources
  metadata: Record<string, string>
}
