import type {
  ChatHistoryItem,
  ChatModelFunctionCall,
  ChatModelFunctions,
  ChatWrapper,
  LlamaModel,
  LlamaText,
  Token,
} from 'node-llama-cpp'
import { invalidRequest } from '../../errors.js'
import type { ChatMessageParam } from '../../schemas/chat.js'

export type RenderedPrompt = {
  tokens: Token[]
  /** The template's end-of-turn markers, as text and as single special tokens. */
  stops: string[]
  stopTokens: Set<number>
}

/**
 * OpenAI messages → node-llama-cpp's chat history. System and developer messages become system
 * items; an assistant's tool calls become function calls whose results are the tool messages
 * that answer them, so the template renders a tool conversation in the model's own syntax. The
 * history ends with an open model turn: the reply continues it (after tool results too).
 */
export function toChatHistory(messages: readonly ChatMessageParam[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = []
  const calls = new Map<string, ChatModelFunctionCall>()
  const openModelTurn = () => {
    const last = history[history.length - 1]
    if (last?.type === 'model') return last
    const turn: Extract<ChatHistoryItem, { type: 'model' }> = { type: 'model', response: [] }
    history.push(turn)
    return turn
  }
  messages.forEach((message, i) => {
    switch (message.role) {
      case 'system':
      case 'developer':
        history.push({ type: 'system', text: textOf(message.content, i) })
        break
      case 'user':
        history.push({ type: 'user', text: textOf(message.content, i) })
        break
      case 'assistant': {
        const turn = openModelTurn()
        const text = message.content == null ? '' : textOf(message.content, i)
        if (text) turn.response.push(text)
        for (const call of message.tool_calls ?? []) {
          const item: ChatModelFunctionCall = {
            type: 'functionCall',
            name: call.function.name,
            params: parseArguments(call.function.arguments),
            result: '',
          }
          calls.set(call.id, item)
          turn.response.push(item)
        }
        break
      }
      case 'tool': {
        const call = calls.get(message.tool_call_id)
        if (call) call.result = parseResult(textOf(message.content, i))
        break
      }
      case 'function': {
        const turn = openModelTurn()
        const call = [...turn.response]
          .reverse()
          .find(
            (r): r is ChatModelFunctionCall =>
              typeof r === 'object' && r.type === 'functionCall' && r.name === message.name,
          )
        if (call) call.result = parseResult(message.content ?? '')
        break
      }
    }
  })
  openModelTurn()
  return history
}

/** The prompt for a chat request, in the model's template (see docs/models.md for the fallback). */
export function renderChat(
  model: LlamaModel,
  wrapper: ChatWrapper,
  messages: readonly ChatMessageParam[],
  functions?: ChatModelFunctions,
): RenderedPrompt {
  const state = wrapper.generateContextState({
    chatHistory: toChatHistory(messages),
    availableFunctions: functions,
    documentFunctionParams: true,
  })
  const stops: string[] = []
  const stopTokens = new Set<number>()
  for (const trigger of state.stopGenerationTriggers) {
    const tokens = trigger.tokenize(model.tokenizer)
    if (tokens.length === 1 && model.isSpecialToken(tokens[0])) stopTokens.add(tokens[0])
    else if (!hasBuiltinSpecialToken(trigger)) stops.push(plainText(trigger))
  }
  return { tokens: state.contextText.tokenize(model.tokenizer), stops, stopTokens }
}

/** A raw completion prompt: BOS when the model wants one, and special tokens written in it parsed. */
export function renderPrompt(model: LlamaModel, prompt: string): Token[] {
  const tokens = model.tokenize(prompt, true)
  const bos = model.tokens.bos
  if (bos !== null && model.tokens.shouldPrependBosToken && tokens[0] !== bos) tokens.unshift(bos)
  return tokens
}

/** BOS, EOS and the like have no text to match; the engine stops on end-of-generation tokens itself. */
function hasBuiltinSpecialToken(text: LlamaText): boolean {
  const json = text.toJSON()
  return (
    typeof json !== 'string' && json.some((v) => typeof v !== 'string' && v.type === 'specialToken')
  )
}

export function plainText(text: LlamaText): string {
  return text.values.map((v) => (typeof v === 'string' ? v : v.value)).join('')
}

function textOf(content: unknown, index: number): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content
    .map((part: { type: string; text?: string; refusal?: string }) => {
      if (part.type === 'text') return part.text ?? ''
      if (part.type === 'refusal') return part.refusal ?? ''
      throw invalidRequest(
        `Invalid content type. ${part.type} is not supported by this model: local llama.cpp models read text only.`,
        `messages[${index}].content`,
        'invalid_value',
      )
    })
    .join('\n')
}

function parseArguments(args: string): unknown {
  try {
    return JSON.parse(args)
  } catch {
    return args
  }
}

function parseResult(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
