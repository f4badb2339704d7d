import fs from 'node:fs'

/** What one sandbox process is allowed; the config's `codeInterpreter` section, resolved. */
export type SandboxLimits = {
  python: string
  sessionCpuSeconds: number
  memoryBytes: number
  maxFileBytes: number
  maxOpenFiles: number
  tmpBytes: number
  dataBytes: number
  sandboxUid: number
}

/** The fd bwrap reads the seccomp program from (fds 0-3 are the kernel's, see kernel.py). */
export const SECCOMP_FD = 4

/** /etc entries Python and its packages need: fonts, matplotlib's rc, BLAS alternatives, ld cache. */
const ETC_BINDS = ['/etc/fonts', '/etc/matplotlibrc', '/etc/alternatives', '/etc/ld.so.cache']

/**
 * The argv that starts `python3 -I -c <source>` in the sandbox: prlimit's rlimits, then (when
 * Plinth runs as root, which RLIMIT_NPROC would not count) setpriv down to an unprivileged uid,
 * then bwrap. Every namespace is new: no network but loopback, its own pids, users, IPC, UTS and
 * cgroups. The root is read-only and holds only /usr and the few /etc entries above; /tmp,
 * /dev/shm and /mnt/data are size-capped tmpfs; nothing of the host's environment is passed.
 */
export function sandboxArgv(limits: SandboxLimits, source: string, asRoot: boolean): string[] {
  const cpu = limits.sessionCpuSeconds
  const argv = [
    'prlimit',
    `--cpu=${cpu}:${cpu}`,
    `--as=${limits.memoryBytes}`,
    `--fsize=${limits.maxFileBytes}`,
    `--nofile=${limits.maxOpenFiles}`,
    '--core=0',
    '--',
  ]
  if (asRoot) {
    const id = limits.sandboxUid
    argv.push('setpriv', `--reuid=${id}`, `--regid=${id}`, '--clear-groups', '--')
  }
  argv.push(
    'bwrap',
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    '--uid', '65534',
    '--gid', '65534',
    '--hostname', 'sandbox',
    '--clearenv',
    '--cap-drop', 'ALL',
    '--ro-bind', '/usr', '/usr',
    ...hostBinds(),

    '--proc', '/proc',
    '--dev', '/dev',
    '--size', String(limits.tmpBytes), '--tmpfs', '/tmp',
    '--size', String(16 * 1024 * 1024), '--tmpfs', '/dev/shm',
    '--size', String(limits.dataBytes), '--tmpfs', '/mnt/data',
    '--chdir', '/mnt/data',
    '--remount-ro', '/dev',
    // Without it the root itself is a tmpfs without a size cap that the code could fill.
    '--remount-ro', '/',
    '--seccomp', String(SECCOMP_FD),
    '--setenv', 'HOME', '/tmp',
    '--setenv', 'PATH', '/usr/bin:/bin',
    '--setenv', 'LANG', 'C.UTF-8',
    '--setenv', 'MPLBACKEND', 'Agg',
    '--setenv', 'MPLCONFIGDIR', '/tmp/mpl',
    '--setenv', 'OPENBLAS_NUM_THREADS', '1',
    '--setenv', 'PYTHONDONTWRITEBYTECODE', '1',
    limits.python,
    '-I',
    '-c',
    source,
  )
  return argv
}

let binds: string[] | undefined

/**
 * /bin, /lib, /lib64 as the symlinks into /usr that a merged-/usr Debian has, and the /etc
 * entries that exist; looked up once.
 */
function hostBinds(): string[] {
  if (binds) return binds
  binds = []
  for (const name of ['bin', 'lib', 'lib64', 'sbin']) {
    if (fs.existsSync(`/usr/${name}`)) binds.push('--symlink', `usr/${name}`, `/${name}`)
  }
  for (const path of ETC_BINDS) if (fs.existsSync(path)) binds.push('--ro-bind', path, path)
  return binds
}
