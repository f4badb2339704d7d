import type sharpModule from 'sharp'
import { engineUnavailable } from '../errors.js'

export type Sharp = typeof sharpModule

let loaded: Promise<Sharp> | undefined

/**
 * sharp (libvips), loaded on first use: Plinth starts where its prebuilt binary cannot load, and
 * image requests then answer 503 engine_unavailable naming the fix (`plinth doctor` checks it).
 */
export function loadSharp(): Promise<Sharp> {
  loaded ??= import('sharp').then(
    (module) => module.default,
    (error) => {
      loaded = undefined
      throw Object.assign(engineUnavailable('The image library sharp (libvips)', 'npm install sharp'), { cause: error })
    },
  )
  return loaded
}

/** For `plinth doctor`: sharp's and libvips' versions, or why it cannot load. */
export async function sharpVersions(): Promise<{ ok: true; detail: string } | { ok: false; detail: string }> {
  try {
    const sharp = await import('sharp')
    return { ok: true, detail: `sharp ${sharp.default.versions.sharp ?? ''} with libvips ${sharp.default.versions.vips}`.replace('  ', ' ') }
  } catch (error) {
    return { ok: false, detail: (error as Error).message.split('\n')[0] }
  }
}
