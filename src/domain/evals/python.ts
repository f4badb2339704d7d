import type { Sandbox, SandboxSession } from '../../sandbox/index.js'

const OUTPUT = '__plinth_eval_score'

/**
 * The grader's code, then its `grade(sample, item)` called on the item (given inline: a JSON
 * string is a valid Python string literal), the score written to a file of /mnt/data, which the
 * call hands back: what the code prints cannot hide or fake it.
 */
function program(source: string, sample: unknown, item: unknown, output: string): string {
  const input = JSON.stringify(JSON.stringify({ sample: sample ?? {}, item }))
  return `${source}

import glob as __plinth_glob, json as __plinth_json, os as __plinth_os
for __plinth_old in __plinth_glob.glob('/mnt/data/${OUTPUT}-*.json'):
    __plinth_os.remove(__plinth_old)
__plinth_d = __plinth_json.loads(${input})
__plinth_score = float(grade(__plinth_d['sample'], __plinth_d['item']))
with open('/mnt/data/${output}', 'w') as __plinth_f:
    __plinth_f.write(__plinth_json.dumps(__plinth_score))
`
}

export class PythonGraderError extends Error {
  override name = 'PythonGraderError'
}

/**
 * The python grader in the code interpreter's sandbox (docs/code-interpreter.md): one session per
 * run, the item and sample placed as a JSON file, the score read from what `grade` returned.
 * Rejects with the sandbox's reason (what the host lacks) or the code's own error.
 */
export class PythonGrader {
  private session: Promise<SandboxSession> | undefined
  /** each call writes its score to a new file: a file the call made is one it hands back */
  private calls = 0
  /**
   * One call at a time: a run grades several items at once, but a call removes the score files
   * of the calls before it, and the session is one interpreter.
   */
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly sandbox: Sandbox,
    private readonly key: string,
  ) {}

  score(source: string, sample: unknown, item: unknown, signal: AbortSignal): Promise<number> {
    const turn = this.queue.then(() => this.scoreNow(source, sample, item, signal))
    this.queue = turn.catch(() => undefined)
    return turn
  }

  private async scoreNow(source: string, sample: unknown, item: unknown, signal: AbortSignal): Promise<number> {
    signal.throwIfAborted()
    this.session ??= this.sandbox.session(this.key)
    let session: SandboxSession
    try {
      session = await this.session
    } catch (error) {
      this.session = undefined
      throw new PythonGraderError(error instanceof Error ? error.message : String(error))
    }
    const output = `${OUTPUT}-${++this.calls}.json`
    const result = await session.run(program(source, sample, item, output), { signal })
    signal.throwIfAborted()
    const written = result.files.find((f) => f.name === output)
    if (result.outcome !== 'ok' || !written) {
      throw new PythonGraderError(`The python grader failed (${result.outcome}): ${result.logs.slice(-2000).trim()}`)
    }
    const score = Number(JSON.parse(written.bytes.toString('utf8')))
    if (!Number.isFinite(score)) throw new PythonGraderError('The python grader returned a score that is not a finite number.')
    return score
  }

  async close() {
    const session = this.session
    this.session = undefined
    if (session) await (await session.catch(() => undefined))?.close()
  }
}
