/** Containers and their files (migration 0025, docs/code-interpreter.md "Containers"). */

export interface ContainersTable {
  id: string
  project_id: string
  name: string
  created_at: number
  last_active_at: number
  expires_after_minutes: number
  /** '1g' | '4g' | '16g' | '64g', as asked (echoed; the sandbox's memory is the server's) */
  memory_limit: string
}

export interface ContainerFilesTable {
  id: string
  container_id: string
  project_id: string
  /** `/mnt/data/<name>` */
  path: string
  bytes: number
  /** 'user' (uploaded) | 'assistant' (written by the code) */
  source: string
  created_at: number
  version: string
}
