import type { MessageContent } from '../../schemas/messages.js'
import type { RunStepRow } from '../../storage/repositories/runs.js'
import type { AnswerParts } from '../tools/tool.js'
import type { MessageRecord } from './records.js'

/**
 * What a step's built-in calls keep beyond the wire's step_details (run_steps.tool_data): the
 * call as the model wrote it and the result it read (later turns' prompts), and what the answer
 * gets from it.
 */
export type StepToolData = {
  calls: Record<string, { name: string; arguments: string; output: string; answer: AnswerParts }>
}

export function stepToolData(step: RunStepRow): StepToolData | null {
  return step.tool_data ? (JSON.parse(step.tool_data) as StepToolData) : null
}

/**
 * What the run's next answer gets from the built-in calls before it: the images not shown in
 * one of the run's messages yet, and every annotation target (a later call's file wins).
 */
export function pendingAnswer(
  steps: readonly RunStepRow[],
  ownMessages: Iterable<MessageRecord>,
): AnswerParts {
  const shown = new Set<string>()
  for (const message of ownMessages) {
    for (const part of message.content) if (part.type === 'image_file') shown.add(part.image_file.file_id)
  }
  const images: string[] = []
  const targets = new Map<string, AnswerParts['annotations'][number]>()
  for (const step of steps) {
    if (step.status !== 'completed') continue
    for (const call of Object.values(stepToolData(step)?.calls ?? {})) {
      images.push(...call.answer.images.filter((id) => !shown.has(id)))
      for (const annotation of call.answer.annotations) targets.set(annotation.text, annotation)
    }
  }
  return { images, annotations: [...targets.values()] }
}

/** The content of an answer: its images first, as OpenAI puts them, then the annotated text. */
export function answerContent(text: string, answer: AnswerParts): MessageContent[] {
  const images: MessageContent[] = answer.images.map((file_id) => ({
    type: 'image_file',
    image_file: { file_id },
  }))
  if (!text && images.length) return images
  return [...images, { type: 'text', text: { value: text, annotations: annotate(text, answer) } }]
}

/** The text goes on with more of a path (`a.csv` is not a link to `a.csv.bak`; `a.csv.` is). */
export function pathGoesOn(text: string, end: number): boolean {
  const next = text[end] ?? ''
  return /[\w\-/]/.test(next) || (next === '.' && /\w/.test(text[end + 1] ?? ''))
}

/**
 * Annotations on each place the text quotes a target. Indices count code points, as OpenAI's
 * (Python) do.
 */
export function annotate(text: string, answer: AnswerParts): Record<string, unknown>[] {
  const found: { at: number; annotation: Record<string, unknown> }[] = []
  for (const target of answer.annotations) {
    for (let at = text.indexOf(target.text); at !== -1; at = text.indexOf(target.text, at + 1)) {
      const end = at + target.text.length
      if (target.type === 'file_path' && pathGoesOn(text, end)) continue
      const start = codePoints(text, at)
      found.push({
        at,
        annotation: {
          type: target.type,
          text: target.text,
          start_index: start,
          end_index: start + codePoints(target.text, target.text.length),
          [target.type]: target.quote === undefined ? { file_id: target.file_id } : { file_id: target.file_id, quote: target.quote },
        },
      })
    }
  }
  return found.sort((a, b) => a.at - b.at).map((f) => f.annotation)
}

function codePoints(text: string, end: number): number {
  let count = 0
  for (let i = 0; i < end; i++) {
    const unit = text.charCodeAt(i)
    if (unit < 0xd800 || unit > 0xdbff) count++
  }
  return count
}

/**
 * The annotations of the text streamed so far that were not streamed yet (`sent` of them were),
 * with their index. A path link at the very end of the text waits (more of the path may come)
 * until `final`; a citation marker is whole once its closing bracket is there.
 */
export function annotationDeltas(
  text: string,
  answer: AnswerParts,
  sent: number,
  final: boolean,
): Record<string, unknown>[] {
  if (!answer.annotations.length) return []
  const length = codePoints(text, text.length)
  const all = annotate(text, answer)
  const out: Record<string, unknown>[] = []
  for (let i = sent; i < all.length; i++) {
    const annotation = all[i]
    if (!final && annotation.type === 'file_path' && (annotation.end_index as number) >= length) break
    out.push({ index: i, ...annotation })
  }
  return out
}
