import type { ItemContent } from '../../schemas/evals.js'

/** What `{{item.*}}` and `{{sample.*}}` name while one data source item is graded. */
export type TemplateContext = { item: Record<string, unknown>; sample?: Record<string, unknown> | null }

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w]*(?:\.[\w-]+)*)\s*\}\}/g

/** The value at a dotted path (`item.a.b`, `sample.output_text`, `item.list.0`), or undefined. */
export function lookup(context: TemplateContext, path: string): unknown {
  let value: unknown = context
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<string, unknown>)[key]
  }
  return value
}

/**
 * Fills `{{item.x}}` / `{{sample.output_text}}` placeholders: text as is, other values as JSON,
 * a missing value as the empty string. Names outside `item` and `sample` are left untouched.
 */
export function render(template: string, context: TemplateContext): string {
  return template.replace(PLACEHOLDER, (whole, path: string) => {
    const root = path.split('.')[0]
    if (root !== 'item' && root !== 'sample') return whole
    const value = lookup(context, path)
    if (value === undefined || value === null) return ''
    return typeof value === 'string' ? value : JSON.stringify(value)
  })
}

/** A template message's content, its text parts rendered. */
export function renderContent(content: ItemContent, context: TemplateContext): ItemContent {
  if (typeof content === 'string') return render(content, context)
  if (Array.isArray(content)) return content.map((part) => renderContent(part, context) as (typeof content)[number])
  if (content.type === 'input_text' || content.type === 'output_text') return { ...content, text: render(content.text, context) }
  if (content.type === 'input_image') return { ...content, image_url: render(content.image_url, context) }
  return content
}

/** The text of a content, for the sample's `input` and for graders that read text. */
export function contentText(content: ItemContent): string {
  if (typeof content === 'string') return content
  if (Array.isArray(content)) return content.map(contentText).join('')
  if (content.type === 'input_text' || content.type === 'output_text') return content.text
  return ''
}
