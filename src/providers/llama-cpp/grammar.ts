import type {
  Llama,
  LlamaGrammar,
  LlamaGrammarEvaluationState,
  LlamaModel,
} from 'node-llama-cpp'
import { LRUCache } from 'lru-cache'
import { nodeLlamaCpp } from './engine.js'
import type { CompiledSchema } from './json-schema.js'

const MAX_CACHED = 64

/**
 * Grammars by what they constrain (a JSON schema, any JSON object, a choice of names), built
 * once and reused: compiling a schema's grammar costs milliseconds that a repeated request
 * (the same tools on every turn of an agent loop) should not pay again.
 */
export class GrammarCache {
  private readonly grammars = new LRUCache<string, Promise<LlamaGrammar>>({ max: MAX_CACHED })

  constructor(private readonly llama: Llama) {}

  /** A schema's GBNF, compiled by Plinth (see json-schema.ts); it ends with the value. */
  forJsonSchema(schema: CompiledSchema): Promise<LlamaGrammar> {
    return this.cached(`gbnf:${schema.grammar}`, () =>
      this.llama.createGrammar({ grammar: schema.grammar }),
    )
  }

  /** response_format json_object: any JSON object. */
  forJsonObject(): Promise<LlamaGrammar> {
    return this.cached('json', async () => {
      const json = await this.llama.getGrammarFor('json')
      return this.llama.createGrammar({
        grammar: json.grammar.replace(/^root\s+::= object$/m, `root ::= ${JSON_OBJECT_ROOT}`),
      })
    })
  }

  /** Exactly one of `names` (function names match [a-zA-Z0-9_-]+, so they need no escaping). */
  forOneOf(names: readonly string[]): Promise<LlamaGrammar> {
    const grammar = `root ::= ${names.map((n) => JSON.stringify(n)).join(' | ')}`
    return this.cached(`names:${grammar}`, () => this.llama.createGrammar({ grammar }))
  }

  private cached(key: string, make: () => Promise<LlamaGrammar>): Promise<LlamaGrammar> {
    let grammar = this.grammars.get(key)
    if (!grammar) {
      const made = make()
      // a grammar that failed to build is forgotten: the next request tries again
      made.catch(() => {
        if (this.grammars.peek(key) === made) this.grammars.delete(key)
      })
      this.grammars.set(key, made)
      grammar = made
    }
    return grammar
  }
}

// json.gbnf's object rule without its trailing whitespace
const JSON_OBJECT_ROOT = '"{" ws ( string ":" ws value ("," ws string ":" ws value)* )? "}"'

/** A fresh evaluation state: one per generation, since it tracks where the output is in the grammar. */
export async function grammarState(
  model: LlamaModel,
  grammar: LlamaGrammar,
): Promise<LlamaGrammarEvaluationState> {
  const { LlamaGrammarEvaluationState } = await nodeLlamaCpp()
  return new LlamaGrammarEvaluationState({ model, grammar })
}
