import type { Llama } from 'node-llama-cpp'
import type { LlamaConfig } from '../../config/schema.js'
import { providerLog } from '../../logger.js'

export type NodeLlamaCpp = typeof import('node-llama-cpp')

const log = providerLog.child({ provider: 'llama-cpp' })

let moduleLoad: Promise<NodeLlamaCpp> | undefined

/**
 * node-llama-cpp, imported on first use: loading it and its native binary takes about a second,
 * which a server without local models (or a CLI command) should not pay.
 */
export function nodeLlamaCpp(): Promise<NodeLlamaCpp> {
  moduleLoad ??= import('node-llama-cpp')
  return moduleLoad
}

const engines = new Map<string, Promise<Llama>>()

// llama.cpp says why a load failed only in its log (the thrown error is a bare "Failed to load
// model"), so its last error lines are kept to put the reason in the API error
const recentErrors: string[] = []

/** Error lines llama.cpp logged since the last call. */
export function takeEngineErrors(): string[] {
  return recentErrors.splice(0)
}

/**
 * One llama.cpp runtime per backend for the process (a second would load the binary again).
 * `build: 'never'` and `skipDownload` guarantee that nothing is compiled or downloaded at run
 * time: only the prebuilt binary that `npm install` put in node_modules is used.
 */
export function getEngine(gpu: LlamaConfig['gpu']): Promise<Llama> {
  const key = String(gpu)
  let engine = engines.get(key)
  if (!engine) {
    engine = nodeLlamaCpp().then(async ({ getLlama, LlamaLogLevel }) => {
      const llama = await getLlama({
        gpu,
        build: 'never',
        skipDownload: true,
        usePrebuiltBinaries: true,
        progressLogs: false,
        logLevel: LlamaLogLevel.warn,
        logger: (level, message) => {
          const text = message.trim()
          if (!text) return
          if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) {
            recentErrors.push(text)
            if (recentErrors.length > 8) recentErrors.shift()
            log.error(text)
          } else log.debug(text)
        },
      })
      log.info({ gpu: llama.gpu, physicalCores: llama.cpuMathCores }, 'llama.cpp runtime loaded')
      return llama
    })
    engine.catch(() => engines.delete(key))
    engines.set(key, engine)
  }
  return engine
}
