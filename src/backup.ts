import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import type { Config } from './config/schema.js'
import { blobsDir } from './config/blobs-dir.js'
import { bytes, progressReporter } from './providers/llama-cpp/pull/progress.js'
import { storageConfigFor } from './storage/dialect.js'

/**
 * `plinth backup` and `plinth restore` (docs/deployment.md): the database and the file bytes,
 * taken while the server runs. SQLite is copied with SQLite's online backup API (a consistent
 * snapshot, writers go on); PostgreSQL with pg_dump. The blobs are copied after the database, so
 * every file the snapshot knows was still there (a file deleted in between is reported).
 */

export type BackupManifest = {
  format: 1
  created_at: number
  database: 'sqlite' | 'postgres'
  /** The file holding the database in the backup: plinth.db, or plinth.pgdump (pg_dump -Fc). */
  database_file: string
  blobs: { files: number; bytes: number }
  /** Files the database snapshot names but whose bytes were gone when the blobs were copied. */
  missing_blobs: string[]
}

type Out = NodeJS.WritableStream & { isTTY?: boolean }

export class BackupError extends Error {
  override name = 'BackupError'
}

/** Files of the data directory that belong in a backup besides the database and the blobs. */
const EXTRA_FILES = ['dashboard.secret']
/** The blob store's in-progress writes (DiskBlobStore's TEMP_DIR): never part of a backup. */
const BLOB_TEMP = '.tmp'

export async function backup(config: Config, dest: string, out: Out): Promise<BackupManifest> {
  if (fs.existsSync(dest) && fs.readdirSync(dest).length > 0) throw new BackupError(`${dest} exists and is not empty: back up into a new directory`)
  fs.mkdirSync(dest, { recursive: true })
  const storage = storageConfigFor(config.databaseUrl, config.dataDir)
  let databaseFile: string
  let known: string[]
  if (storage.kind === 'sqlite') {
    if (!fs.existsSync(storage.path)) throw new BackupError(`no database at ${storage.path}: is --data-dir right?`)
    databaseFile = 'plinth.db'
    out.write(`backing up the database ${storage.path}\n`)
    const source = new Database(storage.path, { readonly: true, fileMustExist: true })
    try {
      const reporter = progressReporter(out)
      await source.backup(path.join(dest, databaseFile), {
        progress: ({ totalPages, remainingPages }) => {
          reporter.update({ received: totalPages - remainingPages, total: totalPages, resumedFrom: 0 })
          return 256
        },
      })
      reporter.done()
    } finally {
      source.close()
    }
    const copy = new Database(path.join(dest, databaseFile), { readonly: true })
    try {
      const check = copy.pragma('integrity_check', { simple: true })
      if (check !== 'ok') throw new BackupError(`the copied database fails SQLite's integrity check: ${check}`)
      // a ready file's bytes live at files/<id> (domain/files/file-object.ts)
      known = (copy.prepare("select id from files where state = 'ready'").pluck().all() as string[]).map((id) => `files/${id}`)
    } finally {
      copy.close()
    }
  } else {
    databaseFile = 'plinth.pgdump'
    out.write('backing up the PostgreSQL database with pg_dump\n')
    const dumped = spawnSync('pg_dump', ['--format=custom', '--no-owner', '--file', path.join(dest, databaseFile), storage.url], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' })
    if (dumped.error) throw new BackupError(`pg_dump could not run (${dumped.error.message}); install it: apt-get install -y postgresql-client`)
    if (dumped.status !== 0) throw new BackupError(`pg_dump failed: ${dumped.stderr.trim()}`)
    known = []
  }
  const blobs = copyBlobs(blobsDir(config), path.join(dest, 'blobs'), out)
  for (const name of EXTRA_FILES) {
    const file = path.join(config.dataDir, name)
    if (fs.existsSync(file)) fs.copyFileSync(file, path.join(dest, name))
  }
  const missing = known.filter((key) => !fs.existsSync(path.join(dest, 'blobs', key)))
  const manifest: BackupManifest = {
    format: 1,
    created_at: Math.floor(Date.now() / 1000),
    database: storage.kind,
    database_file: databaseFile,
    blobs,
    missing_blobs: missing,
  }
  fs.writeFileSync(path.join(dest, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n')
  out.write(`backup written to ${dest}: the database and ${blobs.files} files (${bytes(blobs.bytes)})\n`)
  if (missing.length) out.write(`note: ${missing.length} files were deleted while the backup ran; their rows point at no bytes\n`)
  return manifest
}

export type RestoreOptions = { force?: boolean }

/**
 * Restores a backup into the configured data directory. SQLite: the database file and the blobs;
 * refuses a data directory that already holds a database (unless `force`, which replaces it).
 * PostgreSQL: the blobs, and the pg_restore command to run (a database is restored by its admin).
 */
export function restore(config: Config, from: string, out: Out, options: RestoreOptions = {}): BackupManifest {
  const manifestFile = path.join(from, 'manifest.json')
  if (!fs.existsSync(manifestFile)) throw new BackupError(`${from} is not a Plinth backup (no manifest.json)`)
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as BackupManifest
  if (manifest.format !== 1) throw new BackupError(`${from} has backup format ${manifest.format}; this Plinth reads format 1`)
  const storage = storageConfigFor(config.databaseUrl, config.dataDir)
  if (manifest.database !== storage.kind) {
    throw new BackupError(`the backup holds a ${manifest.database} database, but this configuration uses ${storage.kind}`)
  }
  fs.mkdirSync(config.dataDir, { recursive: true })
  if (storage.kind === 'sqlite') {
    const existing = [storage.path, `${storage.path}-wal`, `${storage.path}-shm`].filter((f) => fs.existsSync(f))
    if (existing.length && !options.force) {
      throw new BackupError(`${storage.path} already exists: restore into an empty data directory, or pass --force to replace it (stop the server first)`)
    }
    for (const file of existing) fs.rmSync(file)
    fs.mkdirSync(path.dirname(storage.path), { recursive: true })
    fs.copyFileSync(path.join(from, manifest.database_file), storage.path)
  }
  const blobs = blobsDir(config)
  if (options.force) fs.rmSync(blobs, { recursive: true, force: true })
  copyBlobs(path.join(from, 'blobs'), blobs, out)
  for (const name of EXTRA_FILES) {
    const file = path.join(from, name)
    if (fs.existsSync(file)) fs.copyFileSync(file, path.join(config.dataDir, name))
  }
  if (storage.kind === 'postgres') {
    out.write(
      `the files are restored. Restore the database as its owner, into an empty database:\n  pg_restore --no-owner --dbname <database url> ${path.join(from, manifest.database_file)}\n`,
    )
  } else out.write(`restored into ${config.dataDir}; start Plinth on it (migrations bring an older backup up to date)\n`)
  return manifest
}

/** Copies a blob tree (but its temp area), one file at a time with progress; returns the count. */
function copyBlobs(from: string, to: string, out: Out): { files: number; bytes: number } {
  const files: { rel: string; size: number }[] = []
  const walk = (dir: string, rel: string) => {
    if (!fs.existsSync(dir)) return
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (rel === '' && entry.name === BLOB_TEMP) continue
      const relPath = rel ? path.join(rel, entry.name) : entry.name
      if (entry.isDirectory()) walk(path.join(dir, entry.name), relPath)
      else if (entry.isFile()) files.push({ rel: relPath, size: fs.statSync(path.join(dir, entry.name)).size })
    }
  }
  walk(from, '')
  const total = files.reduce((sum, f) => sum + f.size, 0)
  const reporter = progressReporter(out)
  let done = 0
  fs.mkdirSync(to, { recursive: true })
  for (const file of files) {
    const target = path.join(to, file.rel)
    fs.mkdirSync(path.dirname(target), { recursive: true })
    try {
      fs.copyFileSync(path.join(from, file.rel), target)
    } catch (error) {
      // deleted since the walk: the manifest's missing list tells which rows lost their bytes
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
    done += file.size
    reporter.update({ received: done, total, resumedFrom: 0 })
  }
  if (files.length) reporter.done()
  return { files: files.length, bytes: total }
}
