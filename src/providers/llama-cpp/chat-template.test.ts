import { describe, expect, it } from 'vitest'
import { toChatHistory } from './chat-template.js'

describe('toChatHistory', () => {
  it('maps roles and ends with an open model turn', () => {
    expect(
      toChatHistory([
        { role: 'developer', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Hello' },
            { type: 'text', text: 'there' },
          ],
        },
        { role: 'assistant', content: 'Hi!' },
        { role: 'user', content: 'Bye' },
      ]),
    ).toEqual([
      { type: 'system', text: 'Be brief.' },
      { type: 'user', text: 'Hello\nthere' },
      { type: 'model', response: ['Hi!'] },
      { type: 'user', text: 'Bye' },
      { type: 'model', response: [] },
    ])
  })

  it('turns tool calls and their results into function calls the template renders, continuing that turn', () => {
    const history = toChatHistory([
      { role: 'user', content: 'Weather?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'c1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: '{"temp":21}' },
    ])
    expect(history).toEqual([
      { type: 'user', text: 'Weather?' },
      {
        type: 'model',
        response: [
          {
            type: 'functionCall',
            name: 'get_weather',
            params: { city: 'Paris' },
            result: { temp: 21 },
          },
        ],
      },
    ])
  })

  it('refuses content a text model cannot read', () => {
    expect(() =>
      toChatHistory([
        { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:,' } }] },
      ]),
    ).toThrow(/image_url is not supported/)
  })
})
