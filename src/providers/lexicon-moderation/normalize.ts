/**
 * Undoes the cheap obfuscations a lexicon would otherwise miss, before any rule runs: letters
 * spaced or dotted apart ("f u c k", "k.i.l.l"), leetspeak inside words ("k1ll", "b!tch", "$lut"),
 * stretched letters ("fuuuuck") and typographic apostrophes. The text stays readable words, so
 * the rules are written against plain English.
 */

const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's', '!': 'i', '|': 'l' }

/**
 * Runs of word and leet characters; only those holding a letter and a leet character are
 * rewritten ("3 kids" stays). Found with one linear pattern and tested in the callback: a single
 * pattern for "a letter, then a leet character" backtracked cubically on a long word.
 */
const WORDISH = /[a-z0-9@$!|]+/g
const HAS_LETTER = /[a-z]/
const HAS_LEET = /[0-9@$!|]/
/** Three or more single letters apart by one separator each: "f u c k", "k-i-l-l", "s.e.x". */
const SPACED = /\b[a-z](?:[ .\-_*][a-z]\b){2,}/g
const STRETCHED = /([a-wyz])\1{2,}/g

export function normalizeText(text: string): string {
  let out = text.normalize('NFKC').toLowerCase().replace(/[\u2018\u2019\u02bc`]/g, "'")
  out = out.replace(WORDISH, (word) => {
    if (!HAS_LETTER.test(word) || !HAS_LEET.test(word)) return word
    // a trailing "!" is punctuation, not an i ("help!"): it stays as it was
    const body = word.replace(/!+$/, '')
    let fixed = ''
    for (const ch of body) fixed += LEET[ch] ?? ch
    return fixed + word.slice(body.length)
  })
  out = out.replace(SPACED, (run) => run.replace(/[ .\-_*]/g, ''))
  // two of a letter are English ("kill", "sees"): three or more are stretching ("xxx" is a word)
  out = out.replace(STRETCHED, '$1$1')
  return out
}
