import type { ContainerFileRow, ContainerRow } from '../../storage/repositories/containers.js'

/** The Container object as SDK 6 types it (ContainerRetrieveResponse); the spec file has none. */
export type ContainerObject = {
  id: string
  object: 'container'
  created_at: number
  status: 'running' | 'expired'
  expires_after: { anchor: 'last_active_at'; minutes: number }
  last_active_at: number
  name: string
  memory_limit: string
}

/** A container file (`container.file`, SDK 6's FileRetrieveResponse of containers.files). */
export type ContainerFileObject = {
  id: string
  object: 'container.file'
  bytes: number
  container_id: string
  created_at: number
  path: string
  source: string
}

export function toContainerObject(row: ContainerRow, status: 'running' | 'expired'): ContainerObject {
  return {
    id: row.id,
    object: 'container',
    created_at: Number(row.created_at),
    status,
    expires_after: { anchor: 'last_active_at', minutes: row.expires_after_minutes },
    last_active_at: Number(row.last_active_at),
    name: row.name,
    memory_limit: row.memory_limit,
  }
}

export function toContainerFileObject(row: ContainerFileRow): ContainerFileObject {
  return {
    id: row.id,
    object: 'container.file',
    bytes: Number(row.bytes),
    container_id: row.container_id,
    created_at: Number(row.created_at),
    path: row.path,
    source: row.source,
  }
}
