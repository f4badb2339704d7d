/**
 * A small seeded generator (mulberry32): the same seed gives the same cases, so a failure the
 * fuzz test prints can be run again exactly.
 */
export class Random {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** A generator for one named stream of cases: an operation's cases do not depend on the others'. */
  static forName(seed: number, name: string): Random {
    return new Random(hash32(`${seed}:${name}`))
  }

  /** [0, 1) */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]
  }

  /** The items in a random order (a copy). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items]
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      ;[out[i], out[j]] = [out[j], out[i]]
    }
    return out
  }
}

/** FNV-1a, 32 bits. */
export function hash32(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/**
 * The run's seed: FUZZ_SEED (a number, or `random` for a new one each run), else a fixed
 * default so that CI runs the same cases every time.
 */
export function fuzzSeed(env = process.env.FUZZ_SEED): number {
  if (env === 'random') return Math.floor(Math.random() * 2 ** 31)
  if (env !== undefined && env !== '') {
    const seed = Number(env)
    if (!Number.isInteger(seed) || seed < 0) throw new Error(`FUZZ_SEED must be a non-negative integer or 'random', got '${env}'`)
    return seed
  }
  return DEFAULT_SEED
}

export const DEFAULT_SEED = 20_250_611
