import { z } from 'zod'
import { queryInteger } from './query-integer.js'
import { expected, ListOrder, Metadata } from './shared.js'

// Wire contract of /v1/threads/{thread_id}/messages, v2 and v1 (docs/assistants.md).

const Detail = z.enum(['auto', 'low', 'high'])

const ImageFilePart = z.strictObject({
  type: z.literal('image_file'),
  image_file: z.strictObject({ file_id: z.string(), detail: Detail.optional() }),
})

const ImageUrlPart = z.strictObject({
  type: z.literal('image_url'),
  image_url: z.strictObject({ url: z.url(), detail: Detail.optional() }),
})

const TextPart = z.strictObject({ type: z.literal('text'), text: z.string() })

export const MessageContentPartParam = z.discriminatedUnion('type', [
  ImageFilePart,
  ImageUrlPart,
  TextPart,
])
export type MessageContentPartParam = z.output<typeof MessageContentPartParam>

const AttachmentTool = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('code_interpreter') }),
  z.strictObject({ type: z.literal('file_search') }),
])

export const Attachment = z.strictObject({
  file_id: z.string(),
  tools: z.array(AttachmentTool),
})
export type Attachment = z.output<typeof Attachment>

export const MessageCreateV2 = z.strictObject({
  role: z.enum(['user', 'assistant']),
  content: z.union(
    [z.string(), z.array(MessageContentPartParam).min(1)],
    expected('one of a string or array of objects'),
  ),
  attachments: z.array(Attachment).nullish(),
  metadata: Metadata.nullish(),
})
export type MessageCreateV2 = z.output<typeof MessageCreateV2>

export const MessageCreateV1 = z.strictObject({
  role: z.enum(['user', 'assistant']),
  content: z.string().min(1).max(256000),
  file_ids: z.array(z.string()).min(1).max(10).optional(),
  metadata: Metadata.nullish(),
})
export type MessageCreateV1 = z.output<typeof MessageCreateV1>

/** Both versions: only metadata changes. */
export const MessageUpdate = z.strictObject({ metadata: Metadata.nullish() })
export type MessageUpdate = z.output<typeof MessageUpdate>

export const MessageListQuery = z.strictObject({
  after: z.string().optional(),
  before: z.string().optional(),
  limit: queryInteger(z.number().int().min(1).max(100)).default(20),
  order: ListOrder.default('desc'),
  run_id: z.string().optional(),
})
export type MessageListQuery = z.output<typeof MessageListQuery>

/** A content part as messages carry it (the wire's MessageContent). */
export type MessageContent =
  | { type: 'text'; text: { value: string; annotations: unknown[] } }
  | { type: 'image_file'; image_file: { file_id: string; detail?: 'auto' | 'low' | 'high' } }
  | { type: 'image_url'; image_url: { url: string; detail?: 'auto' | 'low' | 'high' } }
  | { type: 'refusal'; refusal: string }

/** The wire's message object in either version (v1: file_ids; v2: attachments). */
export type MessageObject = {
  id: string
  object: 'thread.message'
  created_at: number
  thread_id: string
  status: 'in_progress' | 'incomplete' | 'completed'
  incomplete_details: { reason: string } | null
  completed_at: number | null
  incomplete_at: number | null
  role: 'user' | 'assistant'
  content: MessageContent[]
  assistant_id: string | null
  run_id: string | null
  attachments?: Attachment[]
  file_ids?: string[]
  metadata: Record<string, string>
}

export type MessageFileObject = {
  id: string
  object: 'thread.message.file'
  created_at: number
  message_id: string
}
