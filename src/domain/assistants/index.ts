import type { ProjectPrincipal } from '../../principal.js'
import type { Storage } from '../../storage/storage.js'
import { AssistantFilesService } from './assistant-files.js'
import { AssistantsService } from './assistants.js'
import { MessageFilesService } from './message-files.js'
import { MessagesService } from './messages.js'
import { References, type VectorStoreAccess } from './references.js'
import { RunExecutor } from './run-executor.js'
import { PromptCache } from './prompt-cache.js'
import { RunsService } from './runs.js'
import type { ChatService } from '../inference/chat.js'
import type { ToolRegistry } from '../tools/registry.js'
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
  /** runs and run steps (the API side) */
  runs: RunsService
  /** executes runs: the thread.run.execute job and streamed requests */
  executor: RunExecutor
}

export function createAssistantsServices(deps: {
  storage: Storage
  hasModel(principal: ProjectPrincipal, model: string): boolean
  /** whether a model chats: runs call it through chat completions */
  isChatModel(model: string): boolean
  /** the Vector stores feature, once it is built */
  vectorStores: VectorStoreAccess
  /** runs call the model through the chat service, so usage is recorded as for any request */
  chat: Pick<ChatService, 'chunks'>
  /** ctx.jobs.wake: a run's job starts at once */
  wake?: () => void
  /** the built-in tools runs execute (code_interpreter) */
  tools?: ToolRegistry
  /** the model's context, when it declares one: a run's `auto` truncation fits the prompt into it */
  contextOf?: (model: string) => number | undefined
  /** the bytes of converted thread messages kept for the next prompt (default PROMPT_CACHE_BYTES) */
  promptCacheBytes?: number
}): AssistantsServices {
  const references = new References(deps.vectorStores)
  const { storage } = deps
  const assistants = new AssistantsService({ storage, references, hasModel: deps.hasModel, isChatModel: deps.isChatModel })
  const threads = new ThreadsService({ storage, references })
  const messages = new MessagesService({ storage, references, threads })
  const prompts = new PromptCache(deps.promptCacheBytes)
  const executor = new RunExecutor({ storage, chat: deps.chat, tools: deps.tools, contextOf: deps.contextOf, prompts })
  const runs = new RunsService({
    storage,
    references,
    assistants,
    threads,
    executor,
    hasModel: deps.hasModel,
    isChatModel: deps.isChatModel,
    wake: deps.wake,
  })
  return {
    assistants,
    assistantFiles: new AssistantFilesService({ storage, references, assistants }),
    threads,
    messages,
    messageFiles: new MessageFilesService(messages),
    runs,
    executor,
  }
}
