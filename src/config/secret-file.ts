import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

/**
 * A random secret kept in a file (0600), made on first use. Several processes may start at once
 * (`serve --workers N`, nodes sharing a data directory): the secret is written whole to a private
 * temporary file and linked into place, which fails if another process linked first, so every
 * process reads the same complete secret and none sees a half-written file.
 */
export function readOrCreateSecret(file: string): string {
  try {
    const existing = fs.readFileSync(file, 'utf8').trim()
    if (existing) return existing
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  fs.writeFileSync(temp, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' })
  try {
    fs.linkSync(temp, file)
  } catch (error) {
    // another process made it first: use theirs
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  } finally {
    fs.rmSync(temp, { force: true })
  }
  return fs.readFileSync(file, 'utf8').trim()
}
