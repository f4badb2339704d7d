import { describe, expect, it } from 'vitest'
import { toChatMessages, type RealtimeItem } from './items.js'
import { truncateItem } from './truncate.js'

const spokenItem = (transcript: string): RealtimeItem => ({ id: 'item_a', object: 'realtime.item', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'audio', transcript }] })

describe('conversation.item.truncate', () => {
  it('removes the transcript; the model keeps the words heard before the cut', () => {
    const item = spokenItem('one two three four five six seven eight')
    const audio = truncateItem(item, { ms: 4000 }, 0, 2000)
    expect(item.content).toEqual([{ type: 'audio', transcript: '' }])
    expect(audio).toEqual({ ms: 2000, heard: 'one two three four' })
    expect(toChatMessages(undefined, [item], () => audio.heard)).toEqual([{ role: 'assistant', content: 'one two three four' }])
    // cut again, shorter: from what was heard
    expect(truncateItem(item, audio, 0, 1000)).toEqual({ ms: 1000, heard: 'one two' })
    expect(truncateItem(item, audio, 0, 0).heard).toBe('')
  })

  it("answers OpenAI's errors", () => {
    const user: RealtimeItem = { id: 'item_u', object: 'realtime.item', type: 'message', status: 'completed', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }
    expect(() => truncateItem(user, undefined, 0, 0)).toThrow('Only model output audio messages can be truncated')
    const text: RealtimeItem = { ...spokenItem(''), content: [{ type: 'text', text: 'written' }] }
    expect(() => truncateItem(text, undefined, 0, 0)).toThrow('Only model output audio messages can be truncated')
    expect(() => truncateItem(spokenItem('x'), { ms: 1500.5 }, 0, 1501)).toThrow('Audio content of 1500ms is already shorter than 1501ms')
    expect(() => truncateItem(spokenItem('x'), { ms: 10 }, 2, 0)).toThrow(expect.objectContaining({ code: 'integer_above_max_value', param: 'content_index' }))
    expect(() => truncateItem(spokenItem('x'), { ms: 10 }, -1, 0)).toThrow(expect.objectContaining({ code: 'integer_below_min_value', param: 'content_index' }))
  })
})
