import fs from 'node:fs'
import path from 'node:path'
import type { GenerateCall, Provider } from '../../src/providers/provider.js'
import type { TrainCall, TrainingBackend } from '../../src/providers/training-backend.js'

/**
 * A test-only TrainingBackend put on a provider instance (the test provider has no trainer):
 * `stepMs` per optimizer step, a loss that falls, a file per epoch as the "adapter". Adapter
 * models answer as their base model. A pause stops it after its step, as the real trainer does.
 * Records every call for the test to look at.
 */
export function installFakeTrainer(provider: Provider, options: { stepMs?: number; contextLength?: number } = {}) {
  const calls: TrainCall[] = []
  const adapters = new Map<string, { base: string; adapterPath: string }>()
  const stream = provider.stream.bind(provider)
  const backend: Required<TrainingBackend> = {
    async trainable(model) {
      if (model === 'test-embed') return { ok: false, reason: 'an embedding model cannot be fine-tuned.' }
      return { ok: true, contextLength: options.contextLength ?? 4096 }
    },
    async train(call) {
      calls.push(call)
      const { nEpochs, batchSize } = call.hyperparameters
      const perEpoch = Math.ceil(call.training.length / batchSize)
      const totalSteps = perEpoch * nEpochs
      const tokensPerExample = 10
      let step = call.resumeFrom?.step ?? 0
      const started = Date.now()
      while (step < totalSteps) {
        await new Promise((r) => setTimeout(r, options.stepMs ?? 10))
        call.signal.throwIfAborted()
        step++
        const epoch = Math.ceil(step / perEpoch)
        const trainLoss = 3 / step
        call.onStep({
          step,
          totalSteps,
          epoch,
          trainLoss,
          validLoss: call.validation && step % perEpoch === 0 ? trainLoss * 1.1 : undefined,
          trainedTokens: step * batchSize * tokensPerExample,
          elapsedMs: Date.now() - started,
        })
        if (step % perEpoch === 0) {
          const adapterPath = path.join(call.outDir, `epoch-${epoch}.adapter`)
          fs.writeFileSync(adapterPath, `adapter ${epoch}`)
          await call.onCheckpoint({ epoch, step, adapterPath, trainLoss })
        }
        if (call.pause?.aborted && step < totalSteps) {
          const adapterPath = path.join(call.outDir, `paused-${step}.adapter`)
          fs.writeFileSync(adapterPath, `adapter at ${step}`)
          return { adapterPath, trainedTokens: step * batchSize * tokensPerExample, steps: step, paused: { epoch, step, adapterPath, trainLoss } }
        }
      }
      const adapterPath = path.join(call.outDir, 'adapter.final')
      fs.writeFileSync(adapterPath, 'final')
      return { adapterPath, trainedTokens: call.training.length * tokensPerExample * nEpochs, steps: totalSteps }
    },
    addAdapterModel(id, base, adapterPath) {
      adapters.set(id, { base, adapterPath })
    },
    removeAdapterModel(id) {
      adapters.delete(id)
    },
  }
  Object.assign(provider, backend, {
    stream: (call: GenerateCall) => stream({ ...call, model: adapters.get(call.model)?.base ?? call.model }),
    complete: undefined,
  })
  return { calls, adapters }
}
