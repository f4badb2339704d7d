import type { Config } from './config/schema.js'
import { ChatService } from './domain/inference/chat.js'
import { CompletionsService } from './domain/inference/completions.js'
import { EmbeddingsService } from './domain/inference/embeddings.js'
import { UsageRecorder } from './domain/inference/usage.js'
import { ModelsService } from './domain/inference/models.js'
import { StoredCompletions } from './domain/chat-store/service.js'
import { bootstrapOrganization, type BootstrapResult } from './domain/organization/bootstrap.js'
import { KeysService } from './domain/organization/keys.js'
import { ProviderRegistry } from './providers/registry.js'
import { storageConfigFor } from './storage/dialect.js'
import { openStorage, type Storage } from './storage/storage.js'

/** The composition root: everything a request or a job needs, built once at boot. */
export type AppContext = {
  config: Config
  storage: Storage
  providers: ProviderRegistry
  organization: BootstrapResult['organization']
  bootstrap: BootstrapResult
  services: {
    keys: KeysService
    usage: UsageRecorder
    chat: ChatService
    completions: CompletionsService
    embeddings: EmbeddingsService
    storedCompletions: StoredCompletions
    models: ModelsService
  }
  close(): Promise<void>
}

export async function createContext(config: Config, options: { storage?: Storage; env?: Record<string, string | undefined> } = {}): Promise<AppContext> {
  const storage = options.storage ?? (await openStorage(storageConfigFor(config.databaseUrl, config.dataDir)))
  let providers: ProviderRegistry
  try {
    providers = await ProviderRegistry.create(config, options.env)
  } catch (error) {
    await storage.close()
    throw error
  }
  const bootstrap = await bootstrapOrganization(storage, config)
  const usage = new UsageRecorder(storage)
  const storedCompletions = new StoredCompletions(storage)
  return {
    config,
    storage,
    providers,
    organization: bootstrap.organization,
    bootstrap,
    services: {
      keys: new KeysService(storage),
      usage,
      chat: new ChatService(providers, usage, storedCompletions),
      completions: new CompletionsService(providers, usage),
      embeddings: new EmbeddingsService(providers, usage),
      storedCompletions,
      models: new ModelsService(providers),
    },
    async close() {
      await usage.flush()
      await providers.close()
      await storage.close()
    },
  }
}
