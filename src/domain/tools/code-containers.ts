import type { SandboxFile, SandboxSession } from '../../sandbox/index.js'

/** A file a call wrote, now a file of its container. */
export type SavedContainerFile = { containerId: string; fileId: string; path: string; name: string; kind: 'image' | 'file' }

/**
 * What the code interpreter needs of the Containers API (domain/containers implements it): a
 * Responses call runs in a container, whose files are placed before and saved after each call.
 */
export interface CodeContainers {
  /** Refuses (404, expired) or makes (an auto container) the container, and notes its use. */
  open(projectId: string, id: string, auto: { fileIds: readonly string[] } | null): Promise<void>
  /** Places the container's files in the session; notes for the model about any left out. */
  place(projectId: string, id: string, session: SandboxSession): Promise<string[]>
  save(projectId: string, id: string, files: readonly SandboxFile[], session: SandboxSession): Promise<SavedContainerFile[]>
}
