import { describe, expect, it } from 'vitest'
import type { ApiError } from '../errors.js'
import { BatchCreateParams } from './batches.js'
import { ChatCompletionCreateParams } from './chat.js'
import { validate, validationError } from './validation.js'

function errorFor(body: unknown) {
  const result = ChatCompletionCreateParams.safeParse(body, { reportInput: true })
  if (result.success) throw new Error('expected a validation error')
  return validationError(result.error.issues, { legacyUnknownArgument: true }).toBody().error
}
const user = [{ role: 'user', content: 'hi' }]

describe('validationError: OpenAI messages for zod issues', () => {
  it('C2: unknown top-level argument wins over other problems', () => {
    expect(errorFor({ model: 'm', messages: user, top_k: 3, n: 500 })).toEqual({
      message: 'Unrecognized request argument supplied: top_k',
      type: 'invalid_request_error',
      param: null,
      code: null,
    })
  })
  it('C3: unknown nested parameter', () => {
    expect(errorFor({ model: 'm', messages: [{ role: 'user', content: 'x', foo: 1 }] })).toMatchObject({
      message: "Unknown parameter: 'messages[0].foo'.",
      param: 'messages[0].foo',
      code: 'unknown_parameter',
    })
  })
  it('C5 and C7: missing model, missing messages', () => {
    expect(errorFor({ messages: user }).message).toBe('you must provide a model parameter')
    expect(errorFor({ model: 'm' })).toMatchObject({
      message: "Missing required parameter: 'messages'.",
      param: 'messages',
      code: 'missing_required_parameter',
    })
  })
  it('C9: wrong type, including unions', () => {
    expect(errorFor({ model: 'm', messages: [{ role: 'user', content: { a: 1 } }] })).toMatchObject({
      message: "Invalid type for 'messages[0].content': expected one of a string or array of objects, but got an object instead.",
      code: 'invalid_type',
    })
    expect(errorFor({ model: 5, messages: user }).message).toBe(
      "Invalid type for 'model': expected a string, but got an integer instead.",
    )
  })
  it('C10: empty messages', () => {
    expect(errorFor({ model: 'm', messages: [] })).toMatchObject({
      message: "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      code: 'empty_array',
      param: 'messages',
    })
  })
  it('C11: role not in the enum', () => {
    expect(errorFor({ model: 'm', messages: [{ role: 'error', content: 'x' }] })).toMatchObject({
      message:
        "Invalid value: 'error'. Supported values are: 'system', 'user', 'assistant', 'tool', 'function', and 'developer'.",
      param: 'messages[0].role',
      code: 'invalid_value',
    })
  })
  it('C7: a required enum field left out is missing, not an invalid value', () => {
    const result = BatchCreateParams.safeParse({ input_file_id: 'file-1', endpoint: '/v1/embeddings' }, { reportInput: true })
    if (result.success) throw new Error('expected a validation error')
    expect(validationError(result.error.issues).toBody().error).toEqual({
      message: "Missing required parameter: 'completion_window'.",
      type: 'invalid_request_error',
      param: 'completion_window',
      code: 'missing_required_parameter',
    })
  })
  it('C13 and C14: numbers out of range', () => {
    expect(errorFor({ model: 'm', messages: user, n: 130 })).toMatchObject({
      message: "Invalid 'n': integer above maximum value. Expected a value <= 128, but got 130 instead.",
      code: 'integer_above_max_value',
    })
    expect(errorFor({ model: 'm', messages: user, temperature: 2.5 })).toMatchObject({
      message: "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 instead.",
      code: 'decimal_above_max_value',
    })
  })
  it('G11-G13: metadata limits', () => {
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']))
    expect(errorFor({ model: 'm', messages: user, metadata: many })).toMatchObject({
      message:
        "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got an object with 17 properties instead.",
      code: 'object_above_max_properties',
    })
    const longKey = 'k'.repeat(65)
    expect(errorFor({ model: 'm', messages: user, metadata: { [longKey]: 'v' } }).message).toBe(
      `Invalid property name in 'metadata': '${longKey}' is too long. Expected a string with maximum length 64, but got a string with length 65 instead.`,
    )
    expect(errorFor({ model: 'm', messages: user, metadata: { k: 'v'.repeat(513) } })).toMatchObject({
      message:
        "Invalid 'metadata.k': string too long. Expected a string with maximum length 512, but got a string with length 513 instead.",
      code: 'string_above_max_length',
    })
  })
  it('C9: an integer field given a word names an integer, a decimal field a decimal (validate)', () => {
    const failure = (extra: Record<string, unknown>) => {
      try {
        validate(ChatCompletionCreateParams, { model: 'm', messages: user, ...extra })
      } catch (error) {
        return (error as ApiError).toBody().error
      }
      throw new Error('expected a validation error')
    }
    expect(failure({ n: 'two' })).toMatchObject({ message: "Invalid type for 'n': expected an integer, but got a string instead.", param: 'n', code: 'invalid_type' })
    expect(failure({ n: 1.5 }).message).toBe("Invalid type for 'n': expected an integer, but got a decimal instead.")
    expect(failure({ max_tokens: true }).message).toBe("Invalid type for 'max_tokens': expected an integer, but got a boolean instead.")
    expect(failure({ temperature: 'hot' }).message).toBe("Invalid type for 'temperature': expected a decimal, but got a string instead.")
    // 1e400 in JSON is Infinity: a range error, not "expected a decimal, but got a decimal"
    expect(failure({ temperature: JSON.parse('1e400') })).toMatchObject({
      message: "Invalid 'temperature': decimal above maximum value. Expected a finite value, but got Infinity instead.",
      code: 'decimal_above_max_value',
    })
    expect(failure({ seed: JSON.parse('-1e400') })).toMatchObject({
      message: "Invalid 'seed': integer below minimum value. Expected a finite value, but got -Infinity instead.",
      code: 'integer_below_min_value',
    })
  })
})
