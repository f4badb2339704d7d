import { providerLog } from '../../logger.js'
import type { ProjectPrincipal } from '../../principal.js'
import type { ChatService } from '../inference/chat.js'
import type { UsageEntry } from '../inference/usage.js'
import { keywordTerms } from './query-terms.js'

/**
 * The fixed instructions of the rewrite model (`vectorStores.rewriteModel`). The query goes alone
 * in the user message, so a model that echoes it (test-echo) leaves it as it was.
 */
export const REWRITE_PROMPT = [
  'You rewrite questions into queries for a search engine over documents.',
  "Rewrite the user's message as one short search query: keep its names, numbers and key terms,",
  'drop greetings, filler and politeness, and do not answer it.',
  'Reply with the query only, on one line, without quotes or explanation.',
].join('\n')

/** The longest answer a rewrite may take, in tokens, and the longest query kept, in characters. */
const REWRITE_MAX_TOKENS = 64
const REWRITE_MAX_CHARS = 1000

export type Rewritten = { query: string; usage: UsageEntry[] }

/**
 * `rewrite_query: true` of vector store search. With a rewrite model configured, that chat model
 * rewrites each query (temperature 0, the prompt above), and its tokens are billed as its
 * completions; an answer that is empty, or a model that fails, falls back to the normalisation.
 * Without one, the query is normalised: lower case, its words without stopwords and repeats
 * (`keywordTerms`), the same every time.
 */
export class QueryRewriter {
  constructor(
    private readonly chat: Pick<ChatService, 'create'> | undefined,
    private readonly model: string | undefined,
  ) {}

  async rewrite(principal: ProjectPrincipal, query: string, signal: AbortSignal): Promise<Rewritten> {
    if (!this.chat || !this.model) return { query: normalizeQuery(query), usage: [] }
    const usage: UsageEntry[] = []
    try {
      // the operator chose the model: a project's model permissions do not apply to it
      const completion = await this.chat.create(
        { ...principal, models: undefined },
        {
          model: this.model,
          messages: [
            { role: 'system', content: REWRITE_PROMPT },
            { role: 'user', content: query },
          ],
          temperature: 0,
          max_completion_tokens: REWRITE_MAX_TOKENS,
        },
        { signal, usageSink: (entry) => usage.push(entry) },
      )
      const rewritten = firstLine(contentOf(completion))
      return { query: rewritten || normalizeQuery(query), usage }
    } catch (error) {
      if (signal.aborted) throw error
      providerLog.warn({ err: error, model: this.model }, 'the query rewrite model failed; the query is normalised instead')
      return { query: normalizeQuery(query), usage }
    }
  }
}

/** The rewrite without a model: the query's keywords, or the query itself when it has none. */
export function normalizeQuery(query: string): string {
  const terms = keywordTerms(query)
  return terms.length ? terms.join(' ') : query
}

function contentOf(completion: unknown): string {
  const content = (completion as { choices?: { message?: { content?: unknown } }[] }).choices?.[0]?.message?.content
  return typeof content === 'string' ? content : ''
}

/** The answer's first non-empty line, without the quotes a model may put around it. */
function firstLine(text: string): string {
  const line = text.split('\n').map((l) => l.trim()).find(Boolean) ?? ''
  return line.replace(/^["'`“”]+|["'`“”]+$/g, '').trim().slice(0, REWRITE_MAX_CHARS)
}
