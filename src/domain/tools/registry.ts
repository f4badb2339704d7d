import type { BuiltinTool } from './tool.js'

/** A run's built-in tools, and the first tool type of the run this server cannot execute. */
export type RunTools = { builtins: BuiltinTool[]; unsupported?: string }

/**
 * The built-in tools this server runs. The run executor asks it which tools of a run are built
 * in, and which built-in tool a model's function call is; it knows no tool by its type.
 * A run with a built-in tool that is not registered fails at once, saying so.
 */
export class ToolRegistry {
  private readonly byType: Map<string, BuiltinTool>

  constructor(tools: BuiltinTool[]) {
    this.byType = new Map(tools.map((tool) => [tool.type, tool]))
  }

  /** The built-in tool of this type, if this server runs it. */
  get(type: string): BuiltinTool | undefined {
    return this.byType.get(type)
  }

  forRun(tools: readonly { type: string }[]): RunTools {
    const builtins: BuiltinTool[] = []
    for (const { type } of tools) {
      if (type === 'function') continue
      const tool = this.byType.get(type)
      if (!tool) return { builtins, unsupported: type }
      if (!builtins.includes(tool)) builtins.push(tool)
    }
    return { builtins }
  }
}

/** The built-in tool a model's call names, among the run's. */
export function builtinNamed(tools: readonly BuiltinTool[], name: string): BuiltinTool | undefined {
  return tools.find((tool) => tool.functionName === name)
}
