import type { Repos } from '../../storage/repositories/index.js'
import type { ThreadPages } from './run-prompt.js'

/**
 * A thread read backwards for a run's prompt (keyset pages on the messages_thread index); the
 * messages of `runId` itself are left out (the prompt shows them as the run's own steps).
 */
export function threadPages(repos: Repos, projectId: string, threadId: string, runId?: string): ThreadPages {
  return {
    async page(before, limit) {
      const rows = await repos.messages.newestBefore(projectId, threadId, before, limit)
      return {
        messages: rows
          .filter((row) => runId === undefined || row.run_id !== runId)
          .map((row) => ({ record: { id: row.id, role: row.role, content: JSON.parse(row.content) }, tokens: row.token_count })),
        next: rows.length < limit ? null : rows[rows.length - 1].id,
      }
    },
    store: (counts) => repos.messages.setTokenCounts(projectId, threadId, counts),
  }
}
