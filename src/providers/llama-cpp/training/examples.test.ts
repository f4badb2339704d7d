import path from 'node:path'
import {
  getLlama,
  LlamaLogLevel,
  resolveChatWrapper,
  type Llama,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { renderChat } from '../chat-template.js'
import { renderExample } from './examples.js'

const STORIES = path.resolve(import.meta.dirname, '../../../../../shared/models/stories260K.gguf')

describe('training examples rendered as served', () => {
  let llama: Llama
  let model: LlamaModel
  beforeAll(async () => {
    llama = await getLlama({ gpu: false, build: 'never', skipDownload: true, logLevel: LlamaLogLevel.error })
    model = await llama.loadModel({ modelPath: STORIES })
  })
  afterAll(async () => {
    await model?.dispose()
    await llama?.dispose()
  })

  const targetText = (targets: number[]) =>
    model.detokenize(targets.filter((t) => t >= 0 && t !== model.tokens.eos) as Token[])

  it('learns the answer and EOS only, from the prompt a request evaluates', () => {
    const wrapper = resolveChatWrapper(model)
    const messages = [
      { role: 'system' as const, content: 'You are a helpful assistant.' },
      { role: 'user' as const, content: 'What is Plinth?' },
      { role: 'assistant' as const, content: 'A robot.' },
    ]
    const sequence = renderExample(model, wrapper, { messages })
    const prompt = renderChat(model, wrapper, messages.slice(0, 2)).tokens
    expect(sequence.tokens.slice(0, prompt.length)).toEqual(prompt)
    const first = sequence.targets.findIndex((t) => t >= 0)
    // the first target is predicted from the prompt's last token
    expect(first).toBe(prompt.length - 1)
    expect(sequence.targets.slice(first).every((t) => t >= 0)).toBe(true)
    expect(sequence.targets[sequence.targets.length - 1]).toBe(model.tokens.eos)
    expect(targetText(sequence.targets).trim()).toBe('A robot.')
    expect(sequence.targets).toHaveLength(sequence.tokens.length)
  })

  it('gives no loss to an assistant message with weight 0, and ends earlier turns as the template does', () => {
    const wrapper = resolveChatWrapper(model)
    const sequence = renderExample(model, wrapper, {
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Wrong answer.', weight: 0 },
        { role: 'user', content: 'Again?' },
        { role: 'assistant', content: 'Right answer.' },
      ],
    })
    const text = targetText(sequence.targets)
    expect(text).toContain('Right answer.')
    expect(text).not.toContain('Wrong')
    const weighted = renderExample(model, wrapper, {
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Wrong answer.' },
        { role: 'user', content: 'Again?' },
        { role: 'assistant', content: 'Right answer.' },
      ],
    })
    expect(targetText(weighted.targets)).toContain('Wrong answer.')
    // the first turn's end (Llama 2's EOS before the next [INST]) is learned too
    expect(weighted.targets.filter((t) => t === model.tokens.eos)).toHaveLength(2)
  })
})
