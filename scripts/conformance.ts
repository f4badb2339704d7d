/**
 * `npm run conformance [-- --markdown]`: which OpenAI operations Plinth serves, per spec tag.
 * The route list comes from the real route definitions (apiRoutes), built on a throwaway SQLite
 * context, so the report cannot drift from what the server mounts.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { KNOWN_VIOLATIONS } from '../test/helpers/known-violations.js'
import { apiRoutes } from '../src/api/index.js'
import { parseConfig } from '../src/config/load.js'
import { createContext } from '../src/context.js'
import type { RouteDef } from '../src/http/routes.js'
import { pathShape, readSdkOperations, sdkGroup, type SdkOperation } from '../test/helpers/sdk-operations.js'
import { setLogLevel } from '../src/logger.js'
import {
  readOperations,
  readV1Operations,
  REPO_ROOT,
  SPEC_FILES,
  specFile,
  type SpecOperation,
} from '../test/helpers/spec-files.js'

type Group = { tag: string; served: SpecOperation[]; missing: SpecOperation[] }

async function listRoutes(): Promise<RouteDef[]> {
  setLogLevel('silent')
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-conformance-'))
  try {
    const ctx = await createContext(parseConfig({ dataDir, log: { level: 'silent' } }))
    try {
      return apiRoutes(ctx)
    } finally {
      await ctx.close()
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

function group(routes: RouteDef[]): Group[] {
  const served = new Set(routes.filter((r) => !r.extension).map((r) => `${r.method} ${r.path}`))
  const groups = new Map<string, Group>()
  for (const op of [...readOperations(), ...readV1Operations()]) {
    const tag = op.tag === '(none)' ? 'Admin API keys (no tag in the spec)' : op.tag
    const g = groups.get(tag) ?? groups.set(tag, { tag, served: [], missing: [] }).get(tag)!
    ;(served.has(`${op.method} ${op.path}`) ? g.served : g.missing).push(op)
  }
  return [...groups.values()]
}

/** The SDK's operations newer than the spec file, each served or not, grouped by path. */
type Beyond = SdkOperation & { group: string; served: boolean }
function beyondSpec(routes: RouteDef[]): Beyond[] {
  const shape = (r: { method: string; path: string }) => `${r.method} ${pathShape(r.path)}`
  const spec = new Set([...readOperations(), ...readV1Operations()].map(shape))
  const servedShapes = new Set(routes.map(shape))
  return readSdkOperations()
    .filter((op) => !spec.has(shape(op)))
    .map((op) => ({ ...op, group: sdkGroup(op.path), served: servedShapes.has(shape(op)) }))
}

const specVersion = () =>
  /^ {2}version: (.+)$/m.exec(fs.readFileSync(specFile(SPEC_FILES.v2), 'utf8'))?.[1] ?? '?'
const opLine = (op: { method: string; path: string; operationId: string }) =>
  `${op.method} /v1${op.path} (${op.operationId})`

function totals(groups: Group[]) {
  const served = groups.reduce((n, g) => n + g.served.length, 0)
  const all = groups.reduce((n, g) => n + g.served.length + g.missing.length, 0)
  return `Total: ${served}/${all} operations served (${Math.round((100 * served) / all)}%)`
}

function text(groups: Group[], extensions: RouteDef[], beyond: Beyond[]): string {
  const out = [`OpenAI API conformance (spec ${specVersion()}); + served, - missing`, '']
  for (const g of groups) {
    out.push(`${g.tag}: ${g.served.length}/${g.served.length + g.missing.length} served`)
    for (const op of g.served) out.push(`  + ${opLine(op)}`)
    for (const op of g.missing) out.push(`  - ${opLine(op)}`)
  }
  out.push('', `Beyond the spec file (the openai SDK's newer operations): ${beyond.filter((b) => b.served).length}/${beyond.length} served`)
  for (const b of beyond) out.push(`  ${b.served ? '+' : '-'} ${b.method} /v1${b.path} (client.${b.name})`)
  out.push(
    '',
    `Plinth extensions: ${extensions.length}`,
    ...extensions.map((r) => `  * ${opLine(r)}`),
    '',
    totals(groups),
  )
  return out.join('\n') + '\n'
}

/** How the fuzz test works and how to reproduce what it finds (test/fuzz/). */
const FUZZ_SECTION = [
  '## Fuzz test',
  '',
  '`test/fuzz/fuzz.test.ts` sends broken requests to every operation Plinth mounts, served or answering 501 `not_implemented`. It reads the',
  'routes (`apiRoutes`, `notImplementedRoutes`), so a new route is fuzzed the day it is added, and builds the requests from the operation\'s',
  'parameters and request body schema in the spec (`test/helpers/spec-load.ts` keeps them beside the response schemas). Each operation is',
  'one test. Its cases, each breaking one thing of a valid request built from the schema and from real objects made first (`test/fuzz/fixtures.ts`):',
  '',
  '- **auth**: no key, a wrong key, Basic, the other scope\'s key, another organization or project, a missing or unknown `OpenAI-Beta`;',
  '- **path**: encoded and double-encoded `../`, raw `../` (over a socket, unnormalised), a 4 KB id, unicode, NUL, invalid UTF-8,',
  '  a malformed `%` escape, an id of another object type;',
  '- **query**: each declared parameter with a word, a negative, huge or NaN-like number, a long or unicode string, repeated,',
  '  as an array or an object; `limit=-1`, `limit=abc`, `order=sideways`, `after=garbage`, 500 parameters;',
  '- **body-malformed**: truncated JSON, not JSON, JSON of the wrong top type, an empty body, invalid UTF-8, 5,000 nested arrays;',
  '- **body-field**: for every property the schema declares, three levels deep and through each alternative of a union (every message',
  '  role, every content part): a wrong type, null, huge and negative numbers, `1e400`, NaN-like strings, a long string, special',
  '  tokens (`<|endoftext|>`), a bad enum, an unknown property, deep nesting, an array for an object and back, a big array, an id of',
  '  another object, another model, values at the schema\'s bounds, hostile JSON schemas where a schema is taken; a few at once;',
  '- **content-type**: none, `text/plain`, urlencoded, multipart where JSON is expected;',
  '- **multipart** (files, upload parts): a missing, doubled or unknown field, a file sent as text, odd filenames and part types,',
  '  no or another boundary, a cut body, 100 parts, JSON or urlencoded where multipart is expected.',
  '',
  'Every answer must come within 5 s, must not be a 5xx (but the 501 of an operation not built), and a 4xx must be OpenAI\'s',
  '`{ error: { message, type, param, code } }` (checked with the spec\'s `ErrorResponse`, exactly those four keys) with a status OpenAI',
  'uses (400, 401, 403, 404, 409, 413, 429). A request broken beyond doubt (not JSON, no key) must not get a 2xx. Every 2xx is still',
  'checked against the spec by the validating fetch. The cases go into Hono in process; those of the three inference routes go over HTTP',
  'as well, through the fast path production runs. One more test writes bytes Node\'s HTTP parser refuses (bad chunks, control',
  'characters, 20 KB headers, no `Host`, `OPTIONS *`) on a raw socket, and a last one checks that the runs and batches the fuzzed',
  'requests started failed on no server error.',
  '',
  'The cases come from a seeded generator: the seed is in the suite\'s name and in every failure, which prints the broken requests and',
  'the command that runs that operation\'s cases again:',
  '',
  '```sh',
  "FUZZ_SEED=20250611 npx vitest run test/fuzz/fuzz.test.ts -t 'createChatCompletion '",
  '```',
  '',
  '| Variable | Default | What |',
  '|---|---|---|',
  '| `FUZZ_SEED` | 20250611 | the seed; `random` for a new one each run (printed) |',
  '| `FUZZ_SCALE` | 1 | multiplies the cases per operation (about 7,700 requests at 1, 30 s on a busy machine; 10 takes every case there is) |',
  '| `FUZZ_SUMMARY` | unset | print requests, statuses, findings per class, refused unbroken requests and the slowest answers |',
  '| `FUZZ_TIMEOUT_MS` | 5000 | the longest an answer may take |',
  '| `FUZZ_LONG_STRING`, `FUZZ_LONG_WHITESPACE`, `FUZZ_BIG_ARRAY` | 20000, 2000, 500 | sizes; kept small until huge inputs are tokenized off the event loop (issue 11), then raise them to 1000000, 1000000, 10000 |',
]

function markdown(groups: Group[], extensions: RouteDef[], beyond: Beyond[]): string {
  const out = [
    '# OpenAI API conformance',
    '',
    `Generated by \`npm run conformance -- --markdown\` from the official OpenAPI spec (version ${specVersion()})`,
    'and the routes Plinth mounts. Do not edit by hand.',
    '',
    `**${totals(groups)}**`,
    '',
    '| Tag | Served | Operations |',
    '|---|---:|---:|',
    ...groups.map(
      (g) => `| ${g.tag} | ${g.served.length} | ${g.served.length + g.missing.length} |`,
    ),
  ]
  for (const g of groups) {
    out.push(
      '',
      `## ${g.tag} (${g.served.length}/${g.served.length + g.missing.length})`,
      '',
      '| | Method | Path | Operation |',
      '|---|---|---|---|',
    )
    for (const op of g.served)
      out.push(`| served | ${op.method} | \`/v1${op.path}\` | ${op.operationId} |`)
    for (const op of g.missing)
      out.push(`| missing | ${op.method} | \`/v1${op.path}\` | ${op.operationId} |`)
  }
  const beyondGroups = [...new Set(beyond.map((b) => b.group))]
  out.push(
    '',
    `## Beyond the spec file: the SDK's newer operations (${beyond.filter((b) => b.served).length}/${beyond.length})`,
    '',
    'OpenAI operations newer than the spec file, read from the official `openai` SDK (version 6) that apps call them through',
    '(`test/helpers/sdk-operations.ts`). Those not served answer 501 `not_implemented` naming the SDK call',
    '(`SDK_NOT_IMPLEMENTED` in `src/api/not-implemented.ts`); `test/conformance/sdk-operations.test.ts` fails when the SDK has one',
    'that is neither.',
    '',
    '| Group | Served | Operations |',
    '|---|---:|---:|',
    ...beyondGroups.map((g) => `| ${g} | ${beyond.filter((b) => b.group === g && b.served).length} | ${beyond.filter((b) => b.group === g).length} |`),
    '',
    '| | Method | Path | SDK call |',
    '|---|---|---|---|',
    ...beyond.map((b) => `| ${b.served ? 'served' : 'missing'} | ${b.method} | \`/v1${b.path}\` | \`client.${b.name}\` |`),
  )
  out.push('', '## Plinth extensions', '')
  if (!extensions.length) out.push('None yet.')
  else
    out.push(
      '| Method | Path | Name |',
      '|---|---|---|',
      ...extensions.map((r) => `| ${r.method} | \`/v1${r.path}\` | ${r.operationId} |`),
    )
  out.push('', ...FUZZ_SECTION)
  out.push(
    '',
    '## Where responses knowingly differ from the spec file',
    '',
    'The e2e suite validates every response against the spec. These differences are tolerated, each for one operation and JSON path ' +
      '(`test/helpers/known-violations.ts`): in each, Plinth answers as the real API and the official SDK do, and the spec file is stricter.',
    '',
    '| Operation | Where | JSON path | Why |',
    '|---|---|---|---|',
    ...KNOWN_VIOLATIONS.map((v) => `| ${v.operationId} | ${v.where ?? 'body, stream'} | \`${v.path}\` | ${v.note.replace(/\|/g, '\\|')} |`),
  )
  return out.join('\n') + '\n'
}

const routes = await listRoutes()
const groups = group(routes)
const beyond = beyondSpec(routes)
// an extension the SDK calls is OpenAI's, reported above: these are Plinth's own
const sdkShapes = new Set(beyond.map((b) => `${b.method} ${pathShape(b.path)}`))
const extensions = routes.filter((r) => r.extension && !sdkShapes.has(`${r.method} ${pathShape(r.path)}`))
process.stdout.write(text(groups, extensions, beyond))
if (process.argv.includes('--markdown')) {
  const file = path.join(REPO_ROOT, 'docs/conformance.md')
  fs.writeFileSync(file, markdown(groups, extensions, beyond))
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`)
}
