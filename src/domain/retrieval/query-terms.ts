/**
 * Words that say nothing about what to find. Left out of keyword queries: matched with OR, they
 * would match nearly every chunk (and make ranking them all the cost of a query).
 */
const STOPWORDS = new Set(
  (
    'a an and are as at be been but by can could did do does doing for from had has have how i if in into is it its ' +
    'me my no not of on or our she he so some such than that the their them then there these they this those to ' +
    'too us was we were what when where which while who whom why will with would you your about above after again ' +
    'all am any because before being below between both during each few further here him his her hers itself just ' +
    'more most nor only other out over own same should under until up very yours ourselves themselves tell know please find'
  ).split(' '),
)

/** At most this many words go into a keyword query. */
const MAX_TERMS = 32

/**
 * A query's words for keyword search: letters and digits only (so they are safe in FTS5 and
 * tsquery syntax), lower case, without stopwords and repeats.
 */
export function keywordTerms(query: string): string[] {
  const words = query.toLowerCase().normalize('NFKC').match(/[\p{L}\p{N}]+/gu) ?? []
  const out = new Set<string>()
  for (const word of words) {
    if (STOPWORDS.has(word) || (word.length < 2 && !/\p{N}/u.test(word))) continue
    out.add(word)
    if (out.size >= MAX_TERMS) break
  }
  return [...out]
}
