import type { Sandbox, SandboxResult, SandboxSession } from '../../sandbox/index.js'
import type { UsageEntry } from '../inference/usage.js'
import type { CodeContainers } from './code-containers.js'
import { codeOf, partialCode } from './code-input.js'
import { inputFiles, placeFiles, saveFiles, type CodeFilesStore, type InputFile, type SavedFile } from './code-files.js'
import type { BuiltinCall, BuiltinTool, FunctionSpec, OutputItemFields, StepToolCall, ToolResult, ToolScope } from './tool.js'

/** The function every model calls the code interpreter as (test-scripted knows it by this name). */
export const CODE_INTERPRETER_FUNCTION = 'code_interpreter'

/** The usage API's model for code interpreter sessions (the operation has no model of its own). */
export const CODE_INTERPRETER_USAGE_MODEL = 'code-interpreter'

/**
 * The code_interpreter tool (docs/code-interpreter.md, "In runs"): the model's code runs in the
 * thread's sandbox session, kept across runs until it idles out, as OpenAI keeps it; the run's
 * files are at /mnt/data/<file id>; what the code writes there becomes Plinth files.
 */
export class CodeInterpreterTool implements BuiltinTool {
  readonly type = 'code_interpreter'
  readonly functionName = CODE_INTERPRETER_FUNCTION
  /** sessions billed already: a session is billed once, by the turn that made it */
  private readonly billed = new WeakSet<SandboxSession>()

  constructor(
    private readonly deps: {
      sandbox: Sandbox
      files: CodeFilesStore
      /** input files larger than this are not placed (the size of the /mnt/data tmpfs) */
      maxInputBytes: number
      /** a session ends after this long unused (told to the model) */
      idleTimeoutMs: number
      /** the Containers API: a Responses call runs in a container */
      containers?: CodeContainers
    },
  ) {}

  async describe(_model: string, scope: ToolScope): Promise<FunctionSpec> {
    const files = await this.files(scope)
    return { name: this.functionName, description: description(files, this.deps.idleTimeoutMs), parameters: PARAMETERS }
  }

  toStepDetails(call: BuiltinCall): StepToolCall {
    return {
      id: call.id,
      type: 'code_interpreter',
      code_interpreter: { input: codeOf(call.arguments), outputs: [] },
    }
  }

  toStepDelta(call: BuiltinCall, previous: string | null): StepToolCall | undefined {
    const before = previous === null ? 0 : partialCode(previous).length
    const input = partialCode(call.arguments).slice(before)
    if (previous === null) {
      return { id: call.id, type: 'code_interpreter', code_interpreter: { input, outputs: [] } }
    }
    return input ? { type: 'code_interpreter', code_interpreter: { input } } : undefined
  }

  async execute(call: BuiltinCall, scope: ToolScope, signal: AbortSignal): Promise<ToolResult> {
    const code = codeOf(call.arguments)
    // rejects when the host cannot sandbox: the message names what to install
    const session = await this.deps.sandbox.session(scope.threadId)
    const usage: UsageEntry[] = []
    if (!this.billed.has(session)) {
      this.billed.add(session)
      usage.push({
        operation: 'code_interpreter_sessions',
        model: CODE_INTERPRETER_USAGE_MODEL,
        inputTokens: 0,
        outputTokens: 0,
        sessions: 1,
      })
    }
    const { containers } = this.deps
    const container = containers && scope.container
    let notes: string[]
    if (container) {
      await containers.open(scope.projectId, container.id, container.auto ? { fileIds: scope.resources.code_interpreter.file_ids } : null)
      notes = await containers.place(scope.projectId, container.id, session)
    } else {
      notes = await placeFiles(this.deps.files, session, scope.projectId, await this.files(scope), this.deps.maxInputBytes)
    }
    const result = await session.run(code, { signal })
    signal.throwIfAborted()
    // in a container every file written is the container's; figures are Files too (the call's
    // image outputs link to /v1/files/{id}/content)
    const containerFiles = container ? await containers.save(scope.projectId, container.id, result.files, session) : undefined
    const saved = await saveFiles(this.deps.files, scope.projectId, container ? result.files.filter((f) => f.kind === 'image') : result.files)
    const images = saved.filter((f) => f.kind === 'image')
    const written = saved.filter((f) => f.kind === 'file')
    const logs = [...notes, result.logs].filter(Boolean).join('\n')
    const outputs = [
      ...(logs ? [{ type: 'logs', logs }] : []),
      ...images.map((image) => ({ type: 'image', image: { file_id: image.fileId } })),
    ]
    return {
      stepCall: { id: call.id, type: 'code_interpreter', code_interpreter: { input: code, outputs } },
      resultDelta: {
        type: 'code_interpreter',
        code_interpreter: { outputs: outputs.map((output, index) => ({ index, ...output })) },
      },
      modelOutput: modelOutput(logs, result, images, containerFiles?.filter((f) => f.kind === 'file') ?? written),
      usage,
      ...(containerFiles ? { containerFiles } : {}),
      answer: {
        images: images.map((image) => image.fileId),
        annotations: written.map((file) => ({
          type: 'file_path' as const,
          text: `sandbox:${file.path}`,
          file_id: file.fileId,
        })),
      },
    }
  }

  toOutputItem(call: BuiltinCall, result: ToolResult | null, include: readonly string[]): OutputItemFields {
    // the container is the session the code ran in: its key is the scope's thread
    const item: OutputItemFields = { type: 'code_interpreter_call', status: result ? 'completed' : 'in_progress', code: codeOf(call.arguments), container_id: '', outputs: null }
    if (!result || !include.includes('code_interpreter_call.outputs')) return item
    const outputs = (result.stepCall.code_interpreter as { outputs: { type: string; logs?: string; image?: { file_id: string } }[] }).outputs
    item.outputs = outputs.map((o) => (o.type === 'logs' ? { type: 'logs', logs: o.logs } : { type: 'image', url: `/v1/files/${o.image!.file_id}/content` }))
    return item
  }

  private files(scope: ToolScope): Promise<InputFile[]> {
    return inputFiles(this.deps.files, scope.projectId, scope.resources.code_interpreter.file_ids)
  }
}

const PARAMETERS = {
  type: 'object',
  properties: {
    code: { type: 'string', description: 'The Python code to run.' },
  },
  required: ['code'],
  additionalProperties: false,
}

function description(files: readonly InputFile[], idleTimeoutMs: number): string {
  const idle = Math.max(1, Math.round(idleTimeoutMs / 60_000))
  const lines = [
    'Runs Python 3 code in a sandbox and returns its output. The session is stateful, like a',
    'Jupyter notebook: variables, imports and files persist between calls in this conversation',
    `(until it has been idle for ${idle} minute${idle === 1 ? '' : 's'}). The value of the last`,
    'expression is printed. numpy, pandas and matplotlib are installed; there is no internet',
    'access. The working directory is /mnt/data. Figures shown with plt.show() are displayed to',
    'the user. To give the user a file, save it under /mnt/data and link it in your answer as',
    '[name](sandbox:/mnt/data/name).',
  ]
  if (files.length) {
    lines.push('Files available to the code:')
    for (const file of files) lines.push(`- ${file.path} (uploaded as ${file.filename})`)
  }
  return lines.join('\n')
}

/** What the model reads: the logs, then the images shown and the files it may link. */
function modelOutput(logs: string, result: SandboxResult, images: SavedFile[], written: readonly { name: string; path: string }[]) {
  const lines = logs ? [logs.replace(/\n+$/, '')] : []
  for (const image of images) lines.push(`Image shown to the user: ${image.path}`)
  for (const file of written) lines.push(`File written: [${file.name}](sandbox:${file.path})`)
  if (!lines.length) lines.push(result.outcome === 'ok' ? '(no output)' : `(${result.outcome})`)
  return lines.join('\n')
}
