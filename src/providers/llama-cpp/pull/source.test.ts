import { describe, expect, it } from 'vitest'
import { formatProgress } from './progress.js'
import { parseSource } from './source.js'

describe('parseSource', () => {
  it('maps hf: sources to the file on Hugging Face, sending a token only there', () => {
    expect(
      parseSource('hf:TheBloke/Some-GGUF/sub dir/model.Q4_K_M.gguf', { HF_TOKEN: 't' }),
    ).toEqual({
      source: 'hf:TheBloke/Some-GGUF/sub dir/model.Q4_K_M.gguf',
      url: 'https://huggingface.co/TheBloke/Some-GGUF/resolve/main/sub%20dir/model.Q4_K_M.gguf',
      fileName: 'model.Q4_K_M.gguf',
      ownedBy: 'huggingface:TheBloke',
      headers: { authorization: 'Bearer t' },
    })
    expect(
      parseSource('https://example.com/m/tiny.gguf?download=1', { HF_TOKEN: 't' }),
    ).toMatchObject({ fileName: 'tiny.gguf', ownedBy: 'example.com', headers: {} })
  })

  it('names the file after --name, and refuses what is no GGUF or no URL', () => {
    expect(parseSource('https://example.com/x.gguf', {}, 'my-model').fileName).toBe('my-model.gguf')
    expect(() => parseSource('https://example.com/model.bin', {})).toThrow(/not a \.gguf file/)
    expect(() => parseSource('ftp://example.com/x.gguf', {})).toThrow(/only http\(s\)/)
    expect(() => parseSource('model.gguf', {})).toThrow(/neither an http\(s\) URL nor hf:/)
    expect(() => parseSource('https://example.com/x.gguf', {}, '../up')).toThrow(/plain file name/)
  })
})

describe('formatProgress', () => {
  it('shows the bar, bytes, rate and time left', () => {
    expect(
      formatProgress({ received: 50 * 2 ** 20, total: 200 * 2 ** 20, resumedFrom: 0 }, 10_000),
    ).toBe('[======>                 ] 25% 50.0 MiB / 200 MiB 5.0 MiB/s ETA 30s')
    // a resumed download's rate counts only the bytes of this run
    expect(
      formatProgress(
        { received: 3 * 2 ** 30, total: undefined, resumedFrom: 3 * 2 ** 30 - 2 ** 20 },
        1000,
      ),
    ).toBe('3.0 GiB 1.0 MiB/s')
  })
})
