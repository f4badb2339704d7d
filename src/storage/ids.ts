import { randomBytes, randomFillSync } from 'node:crypto'

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZabcdefghjkmnpqrstvwxyz'
let lastMs = 0
let counter = 0

/**
 * prefix + time-sortable suffix: 9 chars of milliseconds, 3 of a per-ms counter, 12 random.
 * Sorting ids sorts by creation, so keyset pagination on the id follows creation order.
 */
export function newId(prefix: string): string {
  const now = Date.now()
  if (now === lastMs) counter++
  else {
    lastMs = now
    counter = 0
  }
  return prefix + encode(now, 9) + encode(counter, 3) + randomChars(12)
}

function encode(value: number, width: number): string {
  let out = ''
  let v = value
  for (let i = 0; i < width; i++) {
    out = ALPHABET[v % ALPHABET.length] + out
    v = Math.floor(v / ALPHABET.length)
  }
  return out
}

// ids are made on every request (usage rows, completions): draw random bytes from a pool
// instead of paying randomBytes' per-call cost each time
const pool = Buffer.alloc(4096)
let poolOffset = pool.length

/** n random chars of the id alphabet, from the pool (for ids made per request). */
export function randomChars(n: number): string {
  if (poolOffset + n > pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  let out = ''
  for (let i = 0; i < n; i++) out += ALPHABET[pool[poolOffset + i] % ALPHABET.length]
  poolOffset += n
  return out
}

/** Secrets: 48 random url-safe chars after the prefix (about 286 bits). */
export function newSecret(prefix: string): string {
  return prefix + randomBytes(36).toString('base64url')
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}
