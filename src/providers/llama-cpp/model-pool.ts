import os from 'node:os'
import type { LlamaConfig } from '../../config/schema.js'
import { providerLog } from '../../logger.js'
import type { LocalModel } from './discovery.js'
import { getEngine } from './engine.js'
import { memoryBusy, modelTooLarge } from './errors.js'
import { inspectModel, LoadedModel } from './loaded-model.js'

const log = providerLog.child({ provider: 'llama-cpp' })

type Entry = {
  local: LocalModel
  loading: Promise<LoadedModel>
  model?: LoadedModel
  /** Requests holding the model (generating or waiting for a sequence); never unloaded while > 0. */
  leases: number
  lastUsed: number
  /** Estimated RAM, reserved before the load starts so that concurrent loads see it. */
  bytes: number
  idleTimer?: NodeJS.Timeout
}

export type Lease = { model: LoadedModel; release(): void }

export type PoolStats = {
  id: string
  loaded: boolean
  leases: number
  bytes: number
  threads?: number
  contextSize?: number
  sequences?: number
  /** Sequences free right now, and requests waiting for one. */
  idleSequences?: number
  waiting?: number
}[]

/**
 * The models in memory. A model loads on its first request; it unloads after `idleUnloadMs`
 * without requests, or earlier when another model needs its share of the memory budget (least
 * recently used first, and only while no request holds it).
 */
export class ModelPool {
  private readonly entries = new Map<string, Entry>()
  readonly budgetBytes: number

  constructor(private readonly config: LlamaConfig) {
    this.budgetBytes = config.memoryBudgetBytes ?? Math.floor(os.totalmem() * 0.75)
  }

  async acquire(local: LocalModel): Promise<Lease> {
    let entry = this.entries.get(local.id)
    if (!entry || entry.local.path !== local.path) {
      if (entry) this.unload(entry) // the id now names another file
      const fresh: Entry = { local, leases: 0, lastUsed: Date.now(), bytes: 0, loading: undefined! }
      fresh.loading = this.load(fresh)
      entry = fresh
      this.entries.set(local.id, entry)
    }
    entry.leases++
    clearTimeout(entry.idleTimer)
    let model: LoadedModel
    try {
      model = await entry.loading
    } catch (error) {
      entry.leases--
      // a failed load is forgotten, so the next request tries again (the file may be fixed)
      if (this.entries.get(local.id) === entry) this.entries.delete(local.id)
      throw error
    }
    entry.lastUsed = Date.now()
    let released = false
    const held = entry
    return {
      model,
      release: () => {
        if (released) return
        released = true
        held.leases--
        held.lastUsed = Date.now()
        if (held.leases === 0) this.scheduleIdleUnload(held)
      },
    }
  }

  /** The model `id` if it is in memory now (without holding it). */
  loaded(id: string): LoadedModel | undefined {
    return this.entries.get(id)?.model
  }

  stats(): PoolStats {
    return [...this.entries.values()].map((e) => ({
      id: e.local.id,
      loaded: Boolean(e.model),
      leases: e.leases,
      bytes: e.bytes + (e.model?.extraBytes ?? 0),
      threads: e.model?.threads,
      contextSize: e.model?.contextSize,
      sequences: e.model?.settings.sequences,
      idleSequences: e.model?.slots?.idle,
      waiting: e.model?.slots?.waiting,
    }))
  }

  async close() {
    const entries = [...this.entries.values()]
    this.entries.clear()
    await Promise.allSettled(entries.map((e) => this.dispose(e)))
  }

  private async load(entry: Entry): Promise<LoadedModel> {
    const llama = await getEngine(this.config.gpu)
    const inspection = await inspectModel(entry.local, this.config, llama)
    this.makeRoom(entry, inspection.bytes)
    entry.bytes = inspection.bytes
    const started = performance.now()
    try {
      entry.model = await LoadedModel.load(inspection)
    } catch (error) {
      entry.bytes = 0
      throw error
    }
    log.info(
      {
        model: entry.local.id,
        ms: Math.round(performance.now() - started),
        bytes: entry.bytes,
        ...inspection.settings,
      },
      'model loaded',
    )
    return entry.model
  }

  /** Unloads idle models, least recently used first, until `bytes` more fit in the budget. */
  private makeRoom(entry: Entry, bytes: number) {
    if (bytes > this.budgetBytes) throw modelTooLarge(entry.local.id, bytes, this.budgetBytes)
    const used = () =>
      [...this.entries.values()].reduce(
        (sum, e) => sum + (e === entry ? 0 : e.bytes + (e.model?.extraBytes ?? 0)),
        0,
      )
    const idle = [...this.entries.values()]
      .filter((e) => e !== entry && e.leases === 0 && e.model)
      .sort((a, b) => a.lastUsed - b.lastUsed)
    while (used() + bytes > this.budgetBytes) {
      const victim = idle.shift()
      if (!victim) throw memoryBusy(entry.local.id)
      log.info(
        { model: victim.local.id, for: entry.local.id },
        'unloading the least recently used model to fit the memory budget',
      )
      this.unload(victim)
    }
  }

  private scheduleIdleUnload(entry: Entry) {
    if (!this.config.idleUnloadMs) return
    clearTimeout(entry.idleTimer)
    entry.idleTimer = setTimeout(() => {
      if (entry.leases === 0 && this.entries.get(entry.local.id) === entry) {
        log.info({ model: entry.local.id }, 'unloading an idle model')
        this.unload(entry)
      }
    }, this.config.idleUnloadMs)
    entry.idleTimer.unref()
  }

  private unload(entry: Entry) {
    if (this.entries.get(entry.local.id) === entry) this.entries.delete(entry.local.id)
    void this.dispose(entry)
  }

  private async dispose(entry: Entry) {
    clearTimeout(entry.idleTimer)
    const model = entry.model ?? (await entry.loading.catch(() => undefined))
    entry.bytes = 0
    await model
      ?.dispose()
      .catch((error) => log.warn({ model: entry.local.id, err: error }, 'unloading failed'))
  }
}
