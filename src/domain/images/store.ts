import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import path from 'node:path'
import { types } from 'mime-types'
import { readOrCreateSecret } from '../../config/secret-file.js'
import type { ImageFormat } from '../../providers/image-backend.js'
import type { BlobStore } from '../../storage/blobs/blob-store.js'
import { imageNotFound, imageUrlExpired, imageUrlInvalid } from './errors.js'

const HOUR = 3600
const ID = /^img_[0-9a-f]{32}\.(png|jpeg|webp)$/
/** How far back a fresh process sweeps for hours whose images have all expired. */
const SWEEP_BACK_HOURS = 24 * 31

/**
 * The key that signs image URLs: made once and kept (0600) in the data directory, like the
 * dashboard's, so URLs stay valid across restarts and across nodes sharing the directory.
 */
export function imageUrlSecret(dataDir: string): Buffer {
  return Buffer.from(readOrCreateSecret(path.join(dataDir, 'images.secret')), 'base64url')
}

export type StoredImage = { id: string; expires: number }

/**
 * The pictures `response_format: url` answers point at, as OpenAI's expiring blob URLs: kept in the
 * blob store under the hour they expire in (`images/<hour>/<id>`), served by
 * GET /v1/images/content/{id}?expires=&sig= to whoever holds the URL (no API key, as OpenAI's), the
 * signature an HMAC of the id and the expiry. An hour's folder goes as a whole once all of it has
 * expired (the sweep); a read of an expired URL removes its image at once.
 */
export class ImageStore {
  private sweptHour: number

  constructor(
    private readonly blobs: BlobStore,
    private readonly secret: Buffer,
    private readonly ttlSeconds: number,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    this.sweptHour = Math.floor(this.now() / HOUR) - SWEEP_BACK_HOURS
  }

  async save(bytes: Buffer, format: ImageFormat): Promise<StoredImage> {
    const id = `img_${randomBytes(16).toString('hex')}.${format}`
    const expires = this.now() + this.ttlSeconds
    const temp = await this.blobs.writeTemp((async function* () {
      yield bytes
    })())
    await this.blobs.commit(temp, this.key(id, expires))
    return { id, expires }
  }

  /** The URL of a saved picture under `base` (Plinth's public origin, with any path prefix). */
  url(base: string, image: StoredImage): string {
    const query = `expires=${image.expires}&sig=${this.sign(image.id, image.expires)}`
    return `${base.replace(/\/+$/, '')}/v1/images/content/${image.id}?${query}`
  }

  /** A URL's picture, once its signature and expiry are checked: 403 for either, 404 once gone. */
  async open(id: string, expiresText: string | undefined, sig: string | undefined) {
    const expires = Number(expiresText)
    if (!ID.test(id) || !Number.isSafeInteger(expires) || !sig || !this.verify(id, expires, sig)) throw imageUrlInvalid()
    const key = this.key(id, expires)
    if (this.now() >= expires) {
      await this.blobs.delete(key)
      throw imageUrlExpired()
    }
    const size = await this.blobs.size(key)
    if (size === undefined) throw imageNotFound(id)
    const format = id.slice(id.lastIndexOf('.') + 1)
    // opened by the caller once it sends a body (a HEAD request sends none)
    return { size, contentType: types[format], open: () => this.blobs.read(key) }
  }

  /** Removes the folders of every hour whose images have all expired since the last sweep. */
  async sweep(): Promise<number> {
    const current = Math.floor(this.now() / HOUR)
    let removed = 0
    for (let hour = this.sweptHour + 1; hour < current; hour++) {
      await this.blobs.deletePrefix(`images/${hour}`)
      this.sweptHour = hour
      removed++
    }
    return removed
  }

  private key(id: string, expires: number): string {
    return `images/${Math.floor(expires / HOUR)}/${id}`
  }

  private sign(id: string, expires: number): string {
    return createHmac('sha256', this.secret).update(`${id}\n${expires}`).digest('base64url')
  }

  private verify(id: string, expires: number, sig: string): boolean {
    const expected = Buffer.from(this.sign(id, expires))
    const given = Buffer.from(sig)
    return expected.length === given.length && timingSafeEqual(expected, given)
  }
}
