import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type OpenAI from 'openai'
import type { LlamaCppProvider } from '../../src/providers/llama-cpp/provider.js'
import type { TestApp } from './test-context.js'

const repoRoot = path.resolve(import.meta.dirname, '../..')

/**
 * The vendored tiny GGUF (../shared/models, beside the clone; see MODELS.md). Never copied into
 * the project: tests link to it. A missing file fails the suite loudly rather than skipping it.
 */
export const STORIES = path.resolve(repoRoot, '../shared/models/stories260K.gguf')

export function requireStories(): string {
  if (!fs.existsSync(STORIES)) {
    throw new Error(
      `The llama.cpp tests need ${STORIES} (shared/ beside the clone); it is missing.`,
    )
  }
  return STORIES
}

/** A models directory of its own, holding links named as given (all to stories260K) and other files. */
export function modelsDir(
  links: string[] = [],
  files: Record<string, Buffer | string> = {},
): { dir: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-models-'))
  for (const name of links) fs.symlinkSync(requireStories(), path.join(dir, name))
  for (const [name, content] of Object.entries(files))
    fs.writeFileSync(path.join(dir, name), content)
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

export function llamaProvider(t: TestApp, modelId: string): LlamaCppProvider {
  return t.ctx.providers.resolve(modelId).provider as LlamaCppProvider
}

/** A chat answer streamed through the SDK: its text put together, and its finish reason. */
export async function streamedText(client: OpenAI, params: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming) {
  const stream = await client.chat.completions.create({ ...params, stream: true })
  let text = ''
  let finish: string | null = null
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? ''
    finish = chunk.choices[0]?.finish_reason ?? finish
  }
  return { text, finish }
}

/** Polls until `check` holds (or fails after `ms`; a CI machine running every test file at once can take seconds): for state that settles a tick after a response. */
export async function eventually(check: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** The two tools the llama tool-call tests offer: one with a small schema, one without arguments. */
export const WEATHER_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', maxLength: 16 }, unit: { enum: ['c', 'f'] } },
      required: ['city', 'unit'],
    },
  },
}

export const CLOCK_TOOL = {
  type: 'function' as const,
  function: { name: 'get_time', description: 'The time now', parameters: { type: 'object', properties: {} } },
}
