/**
 * String formats as GBNF of the string's content. Each generates a subset of what the format
 * allows (no February 29th, IPv6 without `::`, lowercase UUIDs...) so that every value it makes
 * is valid by the format's strictest reading (ajv-formats' full mode, which checks the days of
 * each month and requires a time's offset).
 */
const TWO_59 = '[0-5] [0-9]'
const HOUR = '( [01] [0-9] | "2" [0-3] )'
const DATE =
  '[0-9]{4} "-" ( ( "0" [13578] | "1" [02] ) "-" ( "0" [1-9] | [12] [0-9] | "3" [01] ) | ( "0" [469] | "11" ) "-" ( "0" [1-9] | [12] [0-9] | "30" ) | "02" "-" ( "0" [1-9] | "1" [0-9] | "2" [0-8] ) )'
const TIME = `${HOUR} ":" ${TWO_59} ":" ${TWO_59} ( "." [0-9]{1,6} )? ( "Z" | [+-] ${HOUR} ":" ${TWO_59} )`
const AMOUNT = '[0-9]{1,4}'
const LABEL = '[a-z0-9] ( [a-z0-9-]{0,30} [a-z0-9] )?'
const HEX = '[0-9a-f]'

export const FORMATS: Record<string, string> = {
  'date-time': `${DATE} "T" ${TIME}`,
  date: DATE,
  time: TIME,
  duration: `"P" ( ${AMOUNT} "W" | ( ${AMOUNT} "Y" ( ${AMOUNT} "M" )? ( ${AMOUNT} "D" )? | ${AMOUNT} "M" ( ${AMOUNT} "D" )? | ${AMOUNT} "D" ) ( "T" dur-time )? | "T" dur-time )`,
  email: `[a-zA-Z0-9_+-]{1,32} ( "." [a-zA-Z0-9_+-]{1,32} ){0,2} "@" ${LABEL} ( "." ${LABEL} ){1,3}`,
  hostname: `${LABEL} ( "." ${LABEL} ){0,3}`,
  ipv4: 'ipv4-part "." ipv4-part "." ipv4-part "." ipv4-part',
  ipv6: `${HEX}{1,4} ( ":" ${HEX}{1,4} ){7}`,
  uuid: `${HEX}{8} "-" ${HEX}{4} "-" ${HEX}{4} "-" ${HEX}{4} "-" ${HEX}{12}`,
}

/** Helper rules some formats refer to. */
export const FORMAT_HELPERS: Record<string, Record<string, string>> = {
  duration: {
    'dur-time': `( ${AMOUNT} "H" ( ${AMOUNT} "M" )? ( ${AMOUNT} "S" )? | ${AMOUNT} "M" ( ${AMOUNT} "S" )? | ${AMOUNT} "S" )`,
  },
  ipv4: { 'ipv4-part': '( "25" [0-5] | "2" [0-4] [0-9] | "1" [0-9] [0-9] | [1-9]? [0-9] )' },
}
