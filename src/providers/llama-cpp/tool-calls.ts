import { randomBytes } from 'node:crypto'
import type {
  ChatModelFunctions,
  ChatWrapper,
  GbnfJsonSchema,
  LlamaText,
  Token,
} from 'node-llama-cpp'
import { unsupportedParameter } from '../../errors.js'
import type { GenerateCall, StreamPart } from '../provider.js'
import { plainText } from './chat-template.js'
import { nodeLlamaCpp } from './engine.js'
import type { GenerationEnd, TextPiece } from './generate.js'
import type { GrammarCache } from './grammar.js'
import { compileSchema, describedSchema, type CompiledSchema } from './json-schema.js'
import { checkedSample, sample, type ChoiceJob } from './text-choice.js'

/** How the request wants tools used; undefined when no tool may be called. */
export type ToolPlan = {
  functions: ChatModelFunctions
  /** Each tool's compiled parameters schema, and the request path it came from. */
  schemas: Map<string, { schema: CompiledSchema; param: string } | undefined>
  /** 'auto': the model decides; 'required': it must call one; a name: it must call that one. */
  mode: 'auto' | 'required' | { name: string }
  parallel: boolean
}

export function toolPlan(call: GenerateCall): ToolPlan | undefined {
  const tools = call.tools ?? []
  if (!tools.length || call.toolChoice === 'none') return undefined
  const schemas: ToolPlan['schemas'] = new Map()
  const functions: Record<string, { description?: string; params?: GbnfJsonSchema }> = {}
  tools.forEach((tool, i) => {
    const { name, description, parameters } = tool.function
    const param = `tools[${i}].function.parameters`
    schemas.set(name, parameters ? { schema: compileSchema(parameters, param), param } : undefined)
    functions[name] = { description, params: parameters ? describedSchema(parameters) : undefined }
  })
  const choice = call.toolChoice
  const mode =
    choice && typeof choice === 'object'
      ? { name: choice.function.name }
      : choice === 'required'
        ? 'required'
        : 'auto'
  if (mode === 'auto' && call.responseFormat && call.responseFormat.type !== 'text') {
    throw unsupportedParameter(
      'response_format',
      "Local models cannot combine a JSON response format with tool_choice 'auto'; use tool_choice 'required' or 'none'.",
    )
  }
  return {
    functions,
    schemas,
    mode,
    parallel: call.parallelToolCalls !== false && typeof mode === 'string',
  }
}

/** The chat template's own syntax for a function call (node-llama-cpp's knowledge of each model). */
type CallSyntax = {
  opener: LlamaText
  sectionOpener?: LlamaText
  triggers: string[]
  sectionTriggers: string[]
  paramsPrefix: LlamaText
  suffix: LlamaText
  emptyParams: string
}

async function callSyntax(wrapper: ChatWrapper): Promise<CallSyntax> {
  const { LlamaText } = await nodeLlamaCpp()
  const { call, parallelism } = wrapper.settings.functions
  const opener = LlamaText(call.prefix)
  const sectionOpener = parallelism ? LlamaText(parallelism.call.sectionPrefix) : undefined
  const texts = (values: (string | LlamaText)[] | undefined) =>
    (values ?? []).map((v) => plainText(LlamaText(v))).filter(Boolean)
  const empty = call.emptyCallParamsPlaceholder
  return {
    opener,
    sectionOpener,
    triggers: texts([call.prefix, ...(call.prefixAlternateMatches ?? [])]),
    sectionTriggers: parallelism
      ? texts([
          parallelism.call.sectionPrefix,
          ...(parallelism.call.sectionPrefixAlternateMatches ?? []),
        ])
      : [],
    paramsPrefix: LlamaText(call.paramsPrefix),
    suffix: LlamaText(call.suffix),
    emptyParams:
      empty === undefined ? '{}' : typeof empty === 'string' ? empty : JSON.stringify(empty),
  }
}

/**
 * A chat answer that may call tools, in the template's call syntax. With 'auto' the model
 * writes freely until it opens a call; with 'required' or a name the call is opened for it.
 * The function name is then chosen under a grammar of the tool names, and the arguments are
 * generated under the grammar of that tool's JSON schema, so they always parse and satisfy it.
 * With parallel calls allowed, the model may open further calls right after.
 */
export async function* toolChoice(
  job: ChoiceJob,
  choice: number,
  plan: ToolPlan,
  grammars: GrammarCache,
): AsyncGenerator<StreamPart, number> {
  const { LlamaText } = await nodeLlamaCpp()
  const model = job.loaded.model
  const syntax = await callSyntax(await job.loaded.chatWrapper())
  const tokens = (text: LlamaText) => text.tokenize(model.tokenizer)
  let prompt: Token[] = job.prompt
  let budget = job.maxTokens
  let output = 0
  const prefill = (text: LlamaText) => {
    const added = tokens(text)
    prompt = [...prompt, ...added]
    output += added.length
  }
  const spend = (end: GenerationEnd) => {
    budget -= end.tokens.length
    output += end.tokens.length
  }
  const finish = (finishReason: 'stop' | 'length' | 'tool_calls'): StreamPart => ({
    type: 'choice-end',
    choice,
    finishReason,
  })

  if (plan.mode === 'auto') {
    const triggers = [...syntax.sectionTriggers, ...syntax.triggers]
    const end = yield* passText(
      await sample(job, choice, prompt, {
        maxTokens: budget,
        stops: [...job.stops, ...triggers],
        logprobs: true,
      }),
      choice,
    )
    spend(end)
    if (!end.matched || !triggers.includes(end.matched)) {
      yield finish(end.finishReason)
      return output
    }
    // the call is re-read from text: the sampled tokens need not end where the opener does
    output -= end.tokens.length
    const inSection = syntax.sectionTriggers.includes(end.matched) && syntax.sectionOpener
    prefill(LlamaText([end.text, ...(inSection ? [syntax.sectionOpener!] : []), syntax.opener]))
  } else {
    prefill(LlamaText([...(syntax.sectionOpener ? [syntax.sectionOpener] : []), syntax.opener]))
  }

  const names = typeof plan.mode === 'object' ? [plan.mode.name] : [...plan.schemas.keys()]
  for (let index = 0; ; index++) {
    let name = names[0]
    if (names.length > 1) {
      const end = yield* passText(
        await sample(job, choice, prompt, {
          maxTokens: Math.min(budget, 64),
          stops: [],
          grammar: await grammars.forOneOf(names),
        }),
        choice,
        () => undefined,
      )
      budget -= end.tokens.length
      name = end.text
      if (!plan.schemas.has(name)) {
        yield finish('length')
        return output + end.tokens.length
      }
    }
    yield {
      type: 'tool-call-delta',
      choice,
      index,
      id: `call_${randomBytes(12).toString('base64url')}`,
      name,
      argumentsDelta: '',
    }
    prefill(LlamaText([name, syntax.paramsPrefix]))
    const compiled = plan.schemas.get(name)
    let args = syntax.emptyParams
    if (compiled) {
      const { end, spent } = yield* checkedSample(
        job,
        choice,
        prompt,
        { maxTokens: budget },
        { ...compiled, grammar: await grammars.forJsonSchema(compiled.schema) },
        (piece) =>
          piece.text
            ? { type: 'tool-call-delta', choice, index, argumentsDelta: piece.text }
            : undefined,
      )
      // retries count as generated; the answer's own tokens are prefilled below
      budget -= spent
      output += spent
      if (end.finishReason === 'length') {
        yield finish('length')
        return output
      }
      args = end.text
      output -= end.tokens.length
    } else {
      yield { type: 'tool-call-delta', choice, index, argumentsDelta: '{}' }
    }
    prefill(LlamaText([args, syntax.suffix]))
    if (!plan.parallel || budget <= 0) break
    // another call may follow at once; anything else than whitespace before it ends the answer
    const more = await sample(job, choice, prompt, {
      maxTokens: Math.min(budget, 16),
      stops: [...job.stops, ...syntax.triggers],
    })
    let next = await more.next()
    while (!next.done && !next.value.text.trim()) next = await more.next()
    if (!next.done) {
      await more.return(undefined as never)
      break
    }
    budget -= next.value.tokens.length
    if (!next.value.matched || !syntax.triggers.includes(next.value.matched)) break
    prefill(LlamaText([next.value.text, syntax.opener]))
  }
  yield finish('tool_calls')
  return output
}

/** Yields each piece as a content delta (or as `map` says), and returns how generation ended. */
async function* passText(
  pieces: AsyncGenerator<TextPiece, GenerationEnd>,
  choice: number,
  map: (piece: TextPiece) => StreamPart | undefined = (piece) =>
    piece.text || piece.logprobs?.length
      ? {
          type: 'text-delta',
          choice,
          text: piece.text,
          ...(piece.logprobs ? { logprobs: piece.logprobs } : {}),
        }
      : undefined,
): AsyncGenerator<StreamPart, GenerationEnd> {
  for (;;) {
    const next = await pieces.next()
    if (next.done) return next.value
    const part = map(next.value)
    if (part) yield part
  }
}
