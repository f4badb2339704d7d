import fs from 'node:fs'
import { z } from 'zod'

const ScriptedError = z.strictObject({
  status: z.number().int().min(400).max(599),
  message: z.string(),
  type: z.string().optional(),
  code: z.string().nullish(),
  param: z.string().nullish(),
})

const ScriptedReply = z.union([
  z.string().transform((content) => ({ content })),
  z.strictObject({
    content: z.string().optional(),
    tool_calls: z
      .array(z.strictObject({ name: z.string(), arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).optional() }))
      .optional(),
    error: ScriptedError.optional(),
    /** Fail mid-stream: emit this many chunks of content first, then the error. */
    error_after_chunks: z.number().int().min(0).optional(),
    delay_ms: z.number().int().min(0).max(600_000).optional(),
    chunk_delay_ms: z.number().int().min(0).max(60_000).optional(),
    finish_reason: z.enum(['stop', 'length', 'content_filter']).optional(),
  }),
])
export type ScriptedReply = {
  content?: string
  tool_calls?: { name: string; arguments?: string | Record<string, unknown> }[]
  error?: z.output<typeof ScriptedError>
  error_after_chunks?: number
  delay_ms?: number
  chunk_delay_ms?: number
  finish_reason?: 'stop' | 'length' | 'content_filter'
}

const Match = z.union([
  z.string().min(1),
  z.strictObject({ regex: z.string(), flags: z.string().optional() }),
])

export const ScriptSchema = z.strictObject({
  rules: z.array(z.strictObject({ match: Match, reply: ScriptedReply })).default([]),
  default: ScriptedReply.optional(),
})

export type Rule = { test(text: string): boolean; reply: ScriptedReply }
export type Script = { rules: Rule[]; default?: ScriptedReply }

/** Reads and checks the scripted model's rules file; a bad file stops the boot with its issues. */
export function loadScript(file: string | undefined): Script {
  if (!file) return { rules: [] }
  let raw: unknown
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch (error) {
    throw new Error(`test-scripted: cannot read script ${file}: ${(error as Error).message}`)
  }
  const parsed = ScriptSchema.safeParse(raw)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`)
    throw new Error(`test-scripted: invalid script ${file}:\n${lines.join('\n')}`)
  }
  return {
    default: parsed.data.default as ScriptedReply | undefined,
    rules: parsed.data.rules.map(({ match, reply }) => {
      const regex =
        typeof match === 'string'
          ? new RegExp(match.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i')
          : new RegExp(match.regex, match.flags)
      return { test: (text: string) => regex.test(text), reply: reply as ScriptedReply }
    }),
  }
}
