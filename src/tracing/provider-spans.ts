import { context, SpanKind, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api'
import { failSpan } from './spans.js'

/**
 * The provider call's span: each model call a provider makes (stream, complete, the pass-through
 * forms, embed, responses, the media endpoints) in a CLIENT span with the GenAI semantic
 * conventions' attributes, ended when the answer has been read to its end (a stream) or has
 * arrived (a promise). The provider runs inside its span, so an upstream call carries the
 * span's traceparent. Wrapping happens only when tracing is on, as the registry hands a provider
 * out; a provider object is wrapped once.
 */

/** The traced methods, and their gen_ai.operation.name. */
const OPERATIONS: Record<string, string> = {
  stream: 'chat',
  complete: 'chat',
  passthrough: 'chat',
  passthroughComplete: 'chat',
  embed: 'embeddings',
  responses: 'chat',
  responsesStream: 'chat',
  speech: 'speech',
  transcribe: 'transcription',
  relayTranscription: 'transcription',
  images: 'image_generation',
  moderate: 'moderation',
}

type Call = {
  model?: string
  prompt?: string
  publicModel?: string
  body?: { model?: unknown }
  sampling?: { maxTokens?: number; temperature?: number; topP?: number }
}

export function providerSpans(tracer: Tracer) {
  const wrapped = new WeakMap<object, object>()

  function start(providerId: string, method: string, call: Call): { span: Span; spanContext: Context } {
    // the completions endpoint calls stream() with a raw prompt
    const operation = method === 'stream' || method === 'complete' ? (call?.prompt !== undefined ? 'text_completion' : 'chat') : OPERATIONS[method]
    const model = typeof call?.model === 'string' ? call.model : typeof call?.body?.model === 'string' ? call.body.model : undefined
    const attributes: Attributes = { 'gen_ai.operation.name': operation, 'gen_ai.provider.name': providerId, 'plinth.provider.method': method }
    if (model) attributes['gen_ai.request.model'] = model
    if (call?.publicModel) attributes['plinth.model'] = call.publicModel
    const sampling = call?.sampling
    if (sampling?.maxTokens !== undefined) attributes['gen_ai.request.max_tokens'] = sampling.maxTokens
    if (sampling?.temperature !== undefined) attributes['gen_ai.request.temperature'] = sampling.temperature
    if (sampling?.topP !== undefined) attributes['gen_ai.request.top_p'] = sampling.topP
    const parent = context.active()
    const span = tracer.startSpan(model ? `${operation} ${model}` : operation, { kind: SpanKind.CLIENT, attributes }, parent)
    return { span, spanContext: trace.setSpan(parent, span) }
  }

  function traced(providerId: string, method: string, fn: (...args: unknown[]) => unknown, target: object) {
    return (...args: unknown[]) => {
      // model calls outside a request (batch lines, runs, fine-tuning jobs) are not traced
      if (!trace.getSpan(context.active())) return fn.apply(target, args)
      const { span, spanContext } = start(providerId, method, args[0] as Call)
      let result: unknown
      try {
        result = context.with(spanContext, () => fn.apply(target, args))
      } catch (error) {
        failSpan(span, error)
        span.end()
        throw error
      }
      if (result && typeof (result as PromiseLike<unknown>).then === 'function') {
        return (result as Promise<unknown>).then(
          (value) => {
            noteUsage(span, value)
            span.end()
            return value
          },
          (error) => {
            failSpan(span, error)
            span.end()
            throw error
          },
        )
      }
      if (result && typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') return traceIterable(result as AsyncIterable<unknown>, span, spanContext)
      span.end()
      return result
    }
  }

  return <P extends { readonly id: string }>(provider: P): P => {
    let proxy = wrapped.get(provider) as P | undefined
    if (proxy) return proxy
    const methods = new Map<PropertyKey, unknown>()
    proxy = new Proxy(provider, {
      get(target, property) {
        const value = Reflect.get(target, property, target)
        if (typeof property !== 'string' || typeof value !== 'function' || !Object.hasOwn(OPERATIONS, property)) return value
        let method = methods.get(property)
        if (!method) methods.set(property, (method = traced(target.id, property, value as (...args: unknown[]) => unknown, target)))
        return method
      },
    })
    wrapped.set(provider, proxy)
    return proxy
  }
}

/**
 * The iterable itself, patched so that each step runs inside the span and the span ends with the
 * stream: done, failed, or given up (`return`). It is patched in place, not copied, because
 * pass-through streams carry more than their iterator (`usage()`).
 */
function traceIterable(iterable: AsyncIterable<unknown>, span: Span, spanContext: Context): AsyncIterable<unknown> {
  let ended = false
  const end = (error?: unknown) => {
    if (ended) return
    ended = true
    if (error !== undefined) failSpan(span, error)
    span.end()
  }
  const traceIterator = (iterator: AsyncIterator<unknown>) => {
    const next = iterator.next
    const stop = iterator.return
    const raise = iterator.throw
    const step = (result: Promise<IteratorResult<unknown>>) =>
      result.then(
        (item) => {
          if (item.done) end()
          else noteUsage(span, item.value)
          return item
        },
        (error) => {
          end(error ?? new Error('stream failed'))
          throw error
        },
      )
    const patched = iterator as AsyncIterator<unknown> & Record<string, unknown>
    patched.next = (...args: [] | [unknown]) => step(context.with(spanContext, () => next.apply(iterator, args)))
    if (stop) {
      patched.return = (value?: unknown) => {
        end()
        return context.with(spanContext, () => stop.call(iterator, value))
      }
    }
    if (raise) patched.throw = (error?: unknown) => step(context.with(spanContext, () => raise.call(iterator, error)))
    return iterator
  }
  const asIterator = iterable as AsyncIterable<unknown> & Partial<AsyncIterator<unknown>>
  // a generator is its own iterator: patching its methods covers callers that call next() directly
  if (typeof asIterator.next === 'function') {
    traceIterator(asIterator as AsyncIterator<unknown>)
    return iterable
  }
  const open = iterable[Symbol.asyncIterator].bind(iterable)
  Object.defineProperty(iterable, Symbol.asyncIterator, { value: () => traceIterator(open()), configurable: true, writable: true })
  return iterable
}

/** gen_ai.usage.* from what a provider answers: a usage part, an answer with usage, Responses' usage. */
function noteUsage(span: Span, value: unknown) {
  if (!value || typeof value !== 'object') return
  if (Array.isArray(value)) {
    for (const item of value) noteUsage(span, item)
    return
  }
  const item = value as { type?: string; usage?: Record<string, unknown>; response?: { usage?: Record<string, unknown> } }
  const usage = item.type === 'usage' || !item.type ? item.usage : item.type === 'response.completed' ? item.response?.usage : undefined
  if (!usage || typeof usage !== 'object') return
  const input = usage.inputTokens ?? usage.input_tokens ?? usage.prompt_tokens
  const output = usage.outputTokens ?? usage.output_tokens ?? usage.completion_tokens
  if (typeof input === 'number') span.setAttribute('gen_ai.usage.input_tokens', input)
  if (typeof output === 'number') span.setAttribute('gen_ai.usage.output_tokens', output)
}
