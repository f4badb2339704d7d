import { describe, expect, it } from 'vitest'
import { answerLogprobsTooLarge, unsupportedParameter } from '../../errors.js'
import type { ModelCard } from '../../providers/provider.js'
import type { ResponseCreateParams } from '../../schemas/responses.js'
import { asResponsesError, chatRequest } from './request.js'

const card = { id: 'm', capabilities: { chat: true } } as unknown as ModelCard
const user = [{ role: 'user' as const, content: 'hi' }]
const params = (extra: Partial<ResponseCreateParams>) => ({ model: 'm', input: 'hi', ...extra }) as ResponseCreateParams

describe('log probabilities in the chat call beneath', () => {
  it('are asked for by the include value, with top_logprobs; top_logprobs alone asks nothing', () => {
    const asked = chatRequest(card, params({ include: ['message.output_text.logprobs'], top_logprobs: 3 }), user, false)
    expect(asked).toMatchObject({ logprobs: true, top_logprobs: 3 })
    const bare = chatRequest(card, params({ include: ['message.output_text.logprobs'] }), user, false)
    expect(bare.logprobs).toBe(true)
    expect(bare).not.toHaveProperty('top_logprobs')
    const alone = chatRequest(card, params({ top_logprobs: 3 }), user, false)
    expect(alone).not.toHaveProperty('logprobs')
    expect(alone).not.toHaveProperty('top_logprobs')
  })

  it("chat's refusals of them, in the Responses request's words", () => {
    expect(asResponsesError(unsupportedParameter('logprobs'))).toMatchObject({
      status: 400,
      param: 'include',
      code: 'unsupported_parameter',
      message: "Unsupported parameter: 'include' is not supported with this model. This model has no log probabilities: remove 'message.output_text.logprobs'.",
    })
    // top_logprobs has the same name in both APIs
    expect(asResponsesError(unsupportedParameter('top_logprobs'))).toMatchObject({ param: 'top_logprobs', message: "Unsupported parameter: 'top_logprobs' is not supported with this model." })
    expect(asResponsesError(answerLogprobsTooLarge(262_144))).toMatchObject({
      param: 'top_logprobs',
      code: 'invalid_value',
      message: "The response's log probabilities are over the limit of 262144 entries (output tokens × (1 + top_logprobs)). Lower 'max_output_tokens' or 'top_logprobs'.",
    })
  })
})
