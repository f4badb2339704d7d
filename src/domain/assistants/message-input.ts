import type { MessageContent, MessageCreateV2 } from '../../schemas/messages.js'
import { newId } from '../../storage/ids.js'
import type { Storage } from '../../storage/storage.js'
import { createRepos } from '../../storage/repositories/index.js'
import type { MessageRecord, ThreadRecord } from './records.js'
import type { References } from './references.js'

/**
 * A message written through the API (create message, create thread): its files checked in
 * `storage` (the caller's transaction), its content in the wire's output form. Such messages are
 * complete at once and belong to no run.
 */
export async function newApiMessage(
  storage: Storage,
  references: References,
  at: { projectId: string; threadId: string; now: number },
  params: MessageCreateV2,
): Promise<MessageRecord> {
  const content = toContent(params.content)
  const attachments = params.attachments ?? []
  const images = content.flatMap((part) =>
    part.type === 'image_file' ? [part.image_file.file_id] : [],
  )
  await references.checkFiles(storage, at.projectId, [
    ...attachments.map((a) => a.file_id),
    ...images,
  ])
  return {
    id: newId('msg_'),
    projectId: at.projectId,
    threadId: at.threadId,
    createdAt: at.now,
    role: params.role,
    content,
    attachments,
    metadata: params.metadata ?? {},
    status: 'completed',
    incompleteDetails: null,
    completedAt: at.now,
    incompleteAt: null,
    assistantId: null,
    runId: null,
  }
}

function toContent(content: MessageCreateV2['content']): MessageContent[] {
  const text = (value: string): MessageContent => ({
    type: 'text',
    text: { value, annotations: [] },
  })
  if (typeof content === 'string') return [text(content)]
  return content.map((part) => (part.type === 'text' ? text(part.text) : part))
}

/**
 * Messages' file_search attachments go into the thread's vector store (one is made when the
 * thread has none), in `storage` (the caller's transaction, the thread locked or new).
 */
export async function attachToThreadStore(
  storage: Storage,
  references: References,
  thread: ThreadRecord,
  messages: readonly Pick<MessageRecord, 'attachments'>[],
): Promise<void> {
  const resources = await references.withAttachments(storage, thread.projectId, thread.toolResources, messages)
  if (resources === thread.toolResources) return
  await createRepos(storage.db).threads.update(thread.projectId, thread.id, { tool_resources: JSON.stringify(resources) })
}
