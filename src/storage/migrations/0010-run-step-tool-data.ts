import type { Kysely } from 'kysely'

/**
 * run_steps.tool_data: what a built-in tool call left for the rest of the run, which the wire's
 * step_details do not show (docs/code-interpreter.md, "In runs"): the call as the model wrote it
 * and read its result (the next turn's prompt), and what the answer gets from it (images, files
 * to annotate). Null for steps without built-in calls.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('run_steps').addColumn('tool_data', 'text').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('run_steps').dropColumn('tool_data').execute()
}
