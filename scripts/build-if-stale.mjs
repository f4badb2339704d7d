// `npm start` and the benches build only when a source changed since the last build: a full
// `tsc` took about 12 s on every start, where the server itself is ready in under 1 s. The
// stamp is written by `npm run build` after a successful build, so a failed or interrupted one builds again.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

// PLINTH_BUILD_ROOT: another package to check (the script's own test uses a tiny one)
const root = process.env.PLINTH_BUILD_ROOT ?? path.resolve(import.meta.dirname, '..')
const stamp = path.join(root, 'dist', '.build-stamp')
const inputs = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json']

function newest(file) {
  const stat = fs.statSync(file, { throwIfNoEntry: false })
  if (!stat) return 0
  if (!stat.isDirectory()) return stat.mtimeMs
  let max = stat.mtimeMs // a deleted file changes its directory's mtime
  for (const entry of fs.readdirSync(file)) max = Math.max(max, newest(path.join(file, entry)))
  return max
}

const built = fs.statSync(stamp, { throwIfNoEntry: false })?.mtimeMs ?? 0
const changed = Math.max(...inputs.map((input) => newest(path.join(root, input))))
if (changed > built || process.argv.includes('--force')) {
  const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' })
  // the build script writes the stamp itself, last
  if (result.status !== 0) process.exit(result.status ?? 1)
}
