import type { ProjectPrincipal } from '../../principal.js'
import type { Storage } from '../../storage/storage.js'
import { AssistantFilesService } from './assistant-files.js'
import { AssistantsService } from './assistants.js'
import { MessageFilesService } from './message-files.js'
import { MessagesService } from './messages.js'
import { References, type VectorStoreAccess } from './references.js'
import { ThreadsService } from './threads.js'

export type { ApiVersion } from './records.js'

/** The Assistants API's resources: what context.ts builds and the run engine builds on. */
export type AssistantsServices = {
  assistants: AssistantsService
  /** v1 only */
  assistantFiles: AssistantFilesService
  threads: ThreadsService
  messages: MessagesService
  /** v1 only */
  messageFiles: MessageFilesService
}

export function createAssistantsServices(deps: {
  storage: Storage
  hasModel(principal: ProjectPrincipal, model: string): boolean
  /** the Vector stores feature, once it is built */
  vectorStores?: VectorStoreAccess
}): AssistantsServices {
  const references = new References(deps.vectorStores)
  const { storage } = deps
  const assistants = new AssistantsService({ storage, references, hasModel: deps.hasModel })
  const threads = new ThreadsService({ storage, references })
  const messages = new MessagesService({ storage, references, threads })
  return {
    assistants,
    assistantFiles: new AssistantFilesService({ storage, references, assistants }),
    threads,
    messages,
    messageFiles: new MessageFilesService(messages),
  }
}
