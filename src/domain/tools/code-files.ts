import { Readable } from 'node:stream'
import type { SandboxFile, SandboxSession } from '../../sandbox/index.js'
import type { FilesService } from '../files/service.js'

/** What the code interpreter needs of the Files API. */
export type CodeFilesStore = Pick<FilesService, 'find' | 'bytes' | 'createFromStream'>

/** A file of the run in /mnt/data: `/mnt/data/<file id>`, as OpenAI places them. */
export type InputFile = { id: string; filename: string; bytes: number; path: string }

/** A file the code wrote, now a Plinth file (purpose assistants_output). */
export type SavedFile = { fileId: string; path: string; name: string; kind: 'image' | 'file' }

/** The run's files that still exist, in order, each once. */
export async function inputFiles(
  store: CodeFilesStore,
  projectId: string,
  fileIds: readonly string[],
): Promise<InputFile[]> {
  const files: InputFile[] = []
  for (const id of new Set(fileIds)) {
    const file = await store.find(projectId, id)
    if (file) files.push({ id, filename: file.filename, bytes: file.bytes, path: `/mnt/data/${id}` })
  }
  return files
}

/**
 * Places the run's files in the session (each is sent once per sandbox process; a restart sends
 * them again). A file that cannot be placed is a note for the model, not a failure.
 */
export async function placeFiles(
  store: CodeFilesStore,
  session: SandboxSession,
  projectId: string,
  files: readonly InputFile[],
  maxBytes: number,
): Promise<string[]> {
  const notes: string[] = []
  for (const file of files) {
    if (file.bytes > maxBytes) {
      notes.push(`[${file.path} (${file.filename}) is not available: larger than ${maxBytes} bytes]`)
      continue
    }
    try {
      await session.putFile(file.id, () => store.bytes(projectId, file.id))
    } catch (error) {
      notes.push(`[${file.path} (${file.filename}) is not available: ${(error as Error).message}]`)
    }
  }
  return notes
}

/**
 * The files a call wrote become Plinth files of the project, named by their sandbox path
 * (`/mnt/data/chart.png`). A file the run placed itself and the code changed comes back too.
 */
export async function saveFiles(
  store: CodeFilesStore,
  projectId: string,
  files: readonly SandboxFile[],
): Promise<SavedFile[]> {
  const saved: SavedFile[] = []
  for (const file of files) {
    const created = await store.createFromStream(
      projectId,
      { filename: file.path, purpose: 'assistants_output', mimeType: file.mimeType },
      Readable.from([file.bytes]),
    )
    saved.push({ fileId: created.id, path: file.path, name: file.name, kind: file.kind })
  }
  return saved
}
