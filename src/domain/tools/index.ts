import type { Sandbox } from '../../sandbox/index.js'
import type { CodeContainers } from './code-containers.js'
import type { CodeFilesStore } from './code-files.js'
import type { Retrieval } from '../retrieval/search.js'
import { CodeInterpreterTool } from './code-interpreter.js'
import { FileSearchTool } from './file-search.js'
import { ToolRegistry } from './registry.js'

export { ToolRegistry, builtinNamed, type RunTools } from './registry.js'
export type { AnswerParts, BuiltinCall, BuiltinTool, FunctionSpec, OutputItemFields, StepToolCall, ToolResult, ToolScope } from './tool.js'
export type { CodeContainers, SavedContainerFile } from './code-containers.js'
export { CODE_INTERPRETER_FUNCTION, CODE_INTERPRETER_USAGE_MODEL } from './code-interpreter.js'
export { FILE_SEARCH_FUNCTION, withoutContent } from './file-search.js'

/** The built-in tools this server runs (context.ts). */
export function createToolRegistry(deps: {
  sandbox: Sandbox
  files: CodeFilesStore
  /** the size of /mnt/data: larger input files are not placed */
  maxInputBytes: number
  /** codeInterpreter.idleTimeoutMs: when a session ends */
  idleTimeoutMs: number
  /** the Containers API: Responses calls of the code interpreter run in containers */
  containers?: CodeContainers
  /** file_search (v1 retrieval) searches the run's vector stores with it */
  retrieval?: Pick<Retrieval, 'search' | 'pendingFiles'>
}): ToolRegistry {
  const tools = [new CodeInterpreterTool(deps), ...(deps.retrieval ? [new FileSearchTool(deps.retrieval)] : [])]
  return new ToolRegistry(tools)
}
