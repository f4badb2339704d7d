import { z } from 'zod'
import { queryInteger } from './query-integer.js'
import { Includable, InputItem } from './responses.js'
import { Metadata } from './shared.js'

// The Conversations API's wire contract: newer than the spec file Plinth follows, typed by SDK 6
// (resources/conversations). Its items are the Responses API's input items.

/** OpenAI takes at most 20 items in one request, at creation and when adding. */
const Items = z.array(InputItem).max(20)

export const ConversationCreateParams = z.strictObject({
  items: Items.nullish(),
  metadata: Metadata.nullish(),
})
export type ConversationCreateParams = z.output<typeof ConversationCreateParams>

export const ConversationUpdateParams = z.strictObject({ metadata: Metadata.nullable() })

export const ItemCreateParams = z.strictObject({ items: Items })

/**
 * SDK 6's ResponseIncludable: the spec file's values and the web search ones OpenAI lists for
 * conversation items (taken; Plinth makes no web search items for them to show).
 */
const ItemIncludable = z.enum([...Includable.options, 'web_search_call.results', 'web_search_call.action.sources'])

/** `include[]=a&include[]=b` or one `include=a`. */
const IncludeQuery = z
  .union([ItemIncludable, z.array(ItemIncludable)])
  .transform((v) => (Array.isArray(v) ? v : [v]))
  .optional()

/** `include` of items.create and items.retrieve (a query parameter, as SDK 6 sends it). */
export const ItemIncludeQuery = z.strictObject({ include: IncludeQuery })

export const ItemListQuery = z.strictObject({
  after: z.string().optional(),
  limit: queryInteger(z.number().int().min(1).max(100)).default(20),
  // newest first unless asked, as OpenAI lists a conversation's items
  order: z.enum(['asc', 'desc']).default('desc'),
  include: IncludeQuery,
})
