// The gateway benchmarks' servers (npm run bench, npm run bench:budget): the fake upstream, the
// baseline proxy, and Plinth proxying to the upstream as `npm start` runs it. Each runs in its
// own process, and each process id is the server's own (so /proc tells its CPU and memory).
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '..')
export const BENCH_KEY = 'sk-proj-bench-000000000000000000000000'

/** The benchmarks' chat request: a system and a user message, streamed or not. */
export const chatBody = (model: string, stream: boolean) =>
  JSON.stringify({
    model,
    messages: [
      { role: 'system', content: 'You are a benchmark.' },
      { role: 'user', content: 'Say hello from the benchmark upstream, a fixed answer of some length.' },
    ],
    ...(stream ? { stream: true } : {}),
  })

export type Server = { pid: number; port: number; url: string; exited: Promise<number | null> }
export type GatewaySetup = { upstream: Server; baseline: Server; plinth: Server; dataDir: string; stop(signal?: NodeJS.Signals): void }

const children: ChildProcess[] = []

/**
 * Starts `node <args>` in the repository and resolves once it says it listens. `onOutput` gets
 * its stdout from then on (what it printed before is in the error if it exits first).
 */
export function startServer(args: string[], env: Record<string, string> = {}, onOutput?: (text: string) => void): Promise<Server> {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  // decoded as a stream, so that a character cut between two reads stays whole
  child.stdout!.setEncoding('utf8')
  return new Promise((resolve, reject) => {
    let out = ''
    let ready = false
    child.stdout!.on('data', (d: string) => {
      if (ready) return onOutput?.(d)
      out += d
      const m = /LISTENING (\d+)|ready on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)
      if (m) {
        ready = true
        const port = Number(m[1] ?? m[2])
        resolve({ pid: child.pid!, port, url: `http://127.0.0.1:${port}`, exited })
        const end = out.indexOf('\n', m.index)
        if (end >= 0 && end + 1 < out.length) onOutput?.(out.slice(end + 1))
      }
    })
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`)))
  })
}

/** Ends every server started here (also after a failure, with SIGKILL). */
export function stopAll(signal: NodeJS.Signals = 'SIGTERM') {
  for (const child of children) child.kill(signal)
}

export async function startGateway(): Promise<GatewaySetup> {
  // --import tsx, not tsx's CLI, which would be a wrapper process around the server
  const upstream = await startServer(['--import', 'tsx', 'bench/upstream.ts'])
  const baseline = await startServer(['--import', 'tsx', 'bench/baseline-proxy.ts', upstream.url])
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-bench-'))
  const configFile = path.join(dataDir, 'plinth.json')
  fs.writeFileSync(
    configFile,
    JSON.stringify({
      server: { port: 0 },
      log: { level: 'warn' },
      upstreams: [{ id: 'bench', baseURL: `${upstream.url}/v1` }],
      models: [{ id: 'bench-model', provider: 'openai-compatible', upstream: 'bench' }],
    }),
  )
  // started as `npm start` and the plinth command start it: with its 1 GB heap limit
  // BENCH_PLINTH_NODE_ARGS: extra node flags for Plinth alone (`--cpu-prof --cpu-prof-dir=...`)
  const extra = process.env.BENCH_PLINTH_NODE_ARGS?.split(' ').filter(Boolean) ?? []
  const plinth = await startServer([...extra, '--max-old-space-size=1024', 'bin/plinth.js', 'serve', '--config', configFile, '--data-dir', dataDir], {
    PLINTH_BOOTSTRAP_PROJECT_KEY: BENCH_KEY,
    PLINTH_LOG_LEVEL: 'info',
  })
  return { upstream, baseline, plinth, dataDir, stop: stopAll }
}
