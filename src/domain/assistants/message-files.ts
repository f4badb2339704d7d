import { messageFileNotFound } from '../../errors.js'
import type { ProjectPrincipal } from '../../principal.js'
import type { AssistantsListQuery } from '../../schemas/assistants.js'
import type { MessageFileObject } from '../../schemas/messages.js'
import type { ListPage } from '../../schemas/shared.js'
import type { MessagesService } from './messages.js'
import { pageInMemory } from './pages.js'
import { fileIdsFromAttachments, messageFileObject } from './versions.js'

/** v1's message files: the files of a message's attachments, created with the message. */
export class MessageFilesService {
  constructor(private readonly messages: MessagesService) {}

  // spec (v1): listMessageFiles
  async list(
    principal: ProjectPrincipal,
    threadId: string,
    messageId: string,
    query: AssistantsListQuery,
  ): Promise<ListPage<MessageFileObject>> {
    const message = await this.messages.load(principal.projectId, threadId, messageId)
    const files = fileIdsFromAttachments(message.attachments).map((id) =>
      messageFileObject(message, id),
    )
    return pageInMemory(files, query)
  }

  // spec (v1): getMessageFile
  async get(
    principal: ProjectPrincipal,
    threadId: string,
    messageId: string,
    fileId: string,
  ): Promise<MessageFileObject> {
    const message = await this.messages.load(principal.projectId, threadId, messageId)
    if (!fileIdsFromAttachments(message.attachments).includes(fileId))
      throw messageFileNotFound(fileId)
    return messageFileObject(message, fileId)
  }
}
