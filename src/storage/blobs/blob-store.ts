/** A blob written to a temporary place, not yet visible under any key. */
export type TempBlob = {
  /** Opaque name of the temporary blob inside the store. */
  readonly name: string
  readonly bytes: number
  /** Hex md5 of the bytes, when asked for. */
  readonly md5?: string
}

export type ByteRange = { start: number; end: number }

/**
 * Where file bytes live (not in SQL). Writes are two-phase so that a blob is either absent or
 * complete under its key: a stream goes to a temporary blob first, and `commit` makes it
 * durable and moves it under its key in one atomic step. A crash leaves at most a temporary
 * blob behind, which `sweepTemp` removes.
 */
export interface BlobStore {
  /** Streams `source` into a new temporary blob. On any failure the partial blob is removed. */
  writeTemp(source: AsyncIterable<Uint8Array>, options?: { md5?: boolean }): Promise<TempBlob>
  /** Moves a temporary blob under `key` atomically, replacing what was there. */
  commit(temp: TempBlob, key: string): Promise<void>
  /** Removes a temporary blob; a no-op once it was committed or already removed. */
  discard(temp: TempBlob): Promise<void>
  /** The bytes under `key`, or the inclusive `range` of them. Fails at once if the key is absent. */
  read(key: string, range?: ByteRange): Promise<AsyncIterable<Uint8Array>>
  /** Size in bytes, or undefined when there is no such blob. */
  size(key: string): Promise<number | undefined>
  delete(key: string): Promise<void>
  /** Deletes every blob whose key starts with `prefix/`. */
  deletePrefix(prefix: string): Promise<void>
  /**
   * Removes the leftovers of a crash: temporary blobs whose writer is known to be gone (a process
   * of this host that no longer runs), and any not written to for `olderThanMs`.
   */
  sweepTemp(olderThanMs: number): Promise<number>
}
