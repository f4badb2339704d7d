import type { ChatWrapper, LlamaModel, Token } from 'node-llama-cpp'
import type { GenerateCall } from '../../provider.js'
import type { TrainingExample } from '../../training-backend.js'
import { renderChat } from '../chat-template.js'
import { toolPlan } from '../tool-calls.js'

/** One training sequence: targets[t] is the token to learn after position t, or −1 for none. */
export type Sequence = { tokens: number[]; targets: number[] }

/**
 * An example as the model sees it when served: rendered with the chat wrapper that
 * /v1/chat/completions uses. The loss covers the assistant turns (but those with `weight: 0`)
 * and what ends each turn: EOS after the last one, the template's end-of-turn token after the
 * others. Each assistant turn's prompt is rendered on its own, as a request would render it, and
 * its tokens must be a prefix of the whole conversation's: the tokens learned are exactly those
 * a request continues from.
 */
export function renderExample(model: LlamaModel, wrapper: ChatWrapper, example: TrainingExample): Sequence {
  const messages = example.messages
  const functions = example.tools?.length
    ? toolPlan({ tools: example.tools, toolChoice: 'auto', parallelToolCalls: example.parallel_tool_calls } as GenerateCall)?.functions
    : undefined
  const render = (upTo: number) => renderChat(model, wrapper, messages.slice(0, upTo), functions)
  const assistants = messages.flatMap((m, i) => (m.role === 'assistant' ? [i] : []))
  const last = assistants[assistants.length - 1]
  if (last === undefined) throw new Error('the example has no assistant message')
  const full = render(last + 1)
  const eos = model.tokens.eos
  const tokens: Token[] = eos === null ? [...full.tokens] : [...full.tokens, eos]
  const targets = new Array<number>(tokens.length).fill(-1)
  const ends = new Set<number>([...full.stopTokens, ...(eos === null ? [] : [eos])])
  for (const i of assistants) {
    if (messages[i].weight === 0) continue
    const prompt = render(i).tokens
    const start = commonPrefix(prompt, tokens)
    if (start < prompt.length)
      throw new Error(
        `the chat template renders the prompt before message ${i} differently from the whole conversation, so its answer cannot be trained as it is served`,
      )
    const end = i === last ? tokens.length : commonPrefix(render(i + 1).tokens, tokens)
    // position t predicts token t+1: the answer's tokens are targets from the prompt's last one
    for (let t = Math.max(start, 1); t < end; t++) targets[t - 1] = tokens[t]
    if (i !== last && end < tokens.length && ends.has(tokens[end])) targets[end - 1] = tokens[end]
  }
  // the last token is only a target: it is never an input
  return { tokens: tokens.slice(0, -1), targets: targets.slice(0, -1) }
}

function commonPrefix(a: readonly Token[], b: readonly Token[]): number {
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  return i
}
