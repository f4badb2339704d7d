import type { Sandbox } from '../../sandbox/index.js'
import type { CodeFilesStore } from './code-files.js'
import { CodeInterpreterTool } from './code-interpreter.js'
import { ToolRegistry } from './registry.js'

export { ToolRegistry, builtinNamed, type RunTools } from './registry.js'
export type { AnswerParts, BuiltinCall, BuiltinTool, FunctionSpec, StepToolCall, ToolResult, ToolScope } from './tool.js'
export { CODE_INTERPRETER_FUNCTION, CODE_INTERPRETER_USAGE_MODEL } from './code-interpreter.js'

/** The built-in tools this server runs (context.ts). file_search joins when retrieval lands. */
export function createToolRegistry(deps: {
  sandbox: Sandbox
  files: CodeFilesStore
  /** the size of /mnt/data: larger input files are not placed */
  maxInputBytes: number
  /** codeInterpreter.idleTimeoutMs: when a session ends */
  idleTimeoutMs: number
}): ToolRegistry {
  return new ToolRegistry([new CodeInterpreterTool(deps)])
}
