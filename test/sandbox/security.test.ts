import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { SandboxPool, type SandboxResult, type SandboxSession } from '../../src/sandbox/index.js'
import { describeSandbox, sandboxConfig } from '../helpers/sandbox.js'

/**
 * Hostile code, each piece contained and reported as output, and the sandbox (or the next one)
 * still answering after it. The limits are sandboxConfig()'s: 16 MiB /tmp, 32 MiB /mnt/data,
 * 8 MiB files, 1 GiB of address space, 32 processes.
 */
describeSandbox('code interpreter sandbox: hostile code is contained', () => {
  let pool: SandboxPool
  let session: SandboxSession
  let dataDir: string

  beforeAll(async () => {
    // The server's secrets as a test stands them in: a data dir with a config, and the environment.
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-sandbox-secret-'))
    fs.writeFileSync(path.join(dataDir, 'config.json'), '{"secret": "s3cr3t"}')
    process.env.PLINTH_SANDBOX_TEST_SECRET = 'leak-me-not'
    pool = new SandboxPool(sandboxConfig({ callTimeoutMs: 3000 }))
    session = await pool.session('thread_hostile')
    await session.run('kept = 42')
  }, 60_000)
  afterAll(async () => {
    await pool.close()
    delete process.env.PLINTH_SANDBOX_TEST_SECRET
    fs.rmSync(dataDir, { recursive: true, force: true })
  })

  /** The session still runs code; `kept` says whether its state survived. */
  async function stillWorks(stateKept: boolean) {
    const after = await session.run('print("alive", "kept" in globals())')
    expect(after).toMatchObject({ outcome: 'ok', logs: `alive ${stateKept ? 'True' : 'False'}\n` })
    if (!stateKept) await session.run('kept = 42')
  }

  it("sees none of the host's files: /etc/passwd, /etc/shadow, the data dir, the working dir", async () => {
    const probe = await session.run(
      [
        'import os',
        `targets = ["/etc/passwd", "/etc/shadow", "/root", "/home", ${JSON.stringify(dataDir)}, ${JSON.stringify(path.join(dataDir, 'config.json'))}, ${JSON.stringify(process.cwd())}, "/work", "/var", "/proc/1/root/etc/passwd"]`,
        'for t in targets:',
        '    try:',
        '        open(t).read() if not os.path.isdir(t) else os.listdir(t)',
        '        print("VISIBLE", t)',
        '    except OSError as e:',
        '        print("hidden", t, type(e).__name__)',
        'print(sorted(os.listdir("/")))',
        'print(sorted(os.listdir("/etc")))',
      ].join('\n'),
    )
    expect(probe.outcome).toBe('ok')
    expect(probe.logs).not.toContain('VISIBLE')
    expect(probe.logs).toContain("['bin', 'dev', 'etc', 'lib', 'lib64', 'mnt', 'proc', 'sbin', 'tmp', 'usr']")
    expect(probe.logs).toContain("['alternatives', 'fonts', 'ld.so.cache', 'matplotlibrc']")
    // Only what Plinth set; nothing of the server's environment.
    const env = await session.run('import os, json\nprint(json.dumps(sorted(os.environ)))')
    expect(JSON.parse(env.logs)).toEqual([
      'HOME', 'LANG', 'MPLBACKEND', 'MPLCONFIGDIR', 'OPENBLAS_NUM_THREADS', 'PATH', 'PWD', 'PYTHONDONTWRITEBYTECODE',
    ])
    const blob = await session.run('import os\nprint(open("/proc/self/environ", "rb").read())')
    expect(blob.logs).not.toContain('leak-me-not')
    expect(blob.logs).not.toContain('PLINTH')
    // Its own pid namespace: the host's processes are not there.
    const pids = await session.run('import os\nprint(sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))')
    expect(JSON.parse(pids.logs)).toEqual([1, 2])
  })

  it('cannot write outside /tmp and /mnt/data', async () => {
    const result = await session.run(
      [
        'for t in ["/evil", "/usr/evil", "/etc/evil", "/dev/evil", "/mnt/evil"]:',
        '    try:',
        '        open(t, "w").write("x")',
        '        print("WROTE", t)',
        '    except OSError as e:',
        '        print(t, e.strerror)',
      ].join('\n'),
    )
    expect(result.logs).not.toContain('WROTE')
    expect(result.logs).toContain('/usr/evil Read-only file system')
    await stillWorks(true)
  })

  it('reaches no network: a TCP port the host opened on 127.0.0.1, and DNS', async () => {
    let connections = 0
    const server = net.createServer((socket) => {
      connections++
      socket.destroy()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as net.AddressInfo).port
    try {
      const result = await session.run(
        [
          'import socket',
          'try:',
          `    socket.create_connection(("127.0.0.1", ${port}), timeout=2)`,
          '    print("CONNECTED")',
          'except OSError as e:',
          '    print("tcp refused:", e)',
          'try:',
          '    socket.getaddrinfo("example.com", 443)',
          '    print("RESOLVED")',
          'except OSError as e:',
          '    print("dns failed:", e)',
          'import os',
          'print(sorted(os.listdir("/sys/class/net")) if os.path.exists("/sys/class/net") else "no /sys")',
        ].join('\n'),
      )
      expect(result.outcome).toBe('ok')
      expect(result.logs).toContain('tcp refused: [Errno 97] Address family not supported by protocol')
      expect(result.logs).toContain('dns failed:')
      expect(result.logs).not.toMatch(/CONNECTED|RESOLVED/)
      expect(connections).toBe(0)
      // Unix sockets still work inside (multiprocessing needs them).
      const unix = await session.run('import socket\na, b = socket.socketpair()\na.send(b"ok")\nprint(b.recv(2))')
      expect(unix.logs).toBe("b'ok'\n")
    } finally {
      server.close()
    }
    await stillWorks(true)
  })

  it('cannot ptrace the sandbox init, mount, or make namespaces (seccomp), and does not hang', async () => {
    const result = await session.run(
      [
        'import ctypes, os',
        'libc = ctypes.CDLL(None, use_errno=True)',
        'def call(name, *args):',
        '    r = getattr(libc, name)(*args)',
        '    print(name, r, os.strerror(ctypes.get_errno()) if r == -1 else "")',
        'call("ptrace", 16, 1, 0, 0)',  // PTRACE_ATTACH to pid 1
        'call("ptrace", 0x4206, 1, 0, 0)',  // PTRACE_SEIZE
        'call("mount", b"none", b"/tmp", b"tmpfs", 0, None)',
        'call("unshare", 0x10000000)',  // CLONE_NEWUSER
        'call("unshare", 0x40000000)',  // CLONE_NEWNET
      ].join('\n'),
    )
    expect(result.outcome).toBe('ok')
    expect(result.logs).toBe(
      [
        'ptrace -1 Operation not permitted',
        'ptrace -1 Operation not permitted',
        'mount -1 Operation not permitted',
        'unshare -1 Operation not permitted',
        'unshare -1 Operation not permitted',
        '',
      ].join('\n'),
    )
    await stillWorks(true)
  })

  it('a fork bomb stops at the process limit', async () => {
    const result = await session.run('import os\nwhile True:\n    os.fork()')
    expect(result.outcome).toBe('error')
    expect(result.logs).toContain('BlockingIOError: [Errno 11] Resource temporarily unavailable')
    // What the cell started does not outlive it: the kernel is alone again (but for zombies that
    // bwrap's init has not reaped yet), and can fork.
    const left = await session.run(
      [
        'import os',
        'def alive(p):',
        '    try:',
        '        return open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"',
        '    except OSError:',
        '        return False',
        'print(sorted(int(p) for p in os.listdir("/proc") if p.isdigit() and alive(p)))',
      ].join('\n'),
    )
    expect(left.logs).toBe('[1, 2]\n')
    const fork = await session.run('import subprocess\nprint(subprocess.run(["/usr/bin/echo", "forks again"], capture_output=True).stdout)')
    expect(fork.logs).toBe("b'forks again\\n'\n")
    await stillWorks(true)
  })

  it('filling /tmp and /mnt/data ends in ENOSPC at their sizes', async () => {
    const fill = (dir: string) =>
      session.run(
        [
          'import os, errno',
          'written = 0',
          'try:',
          '    for i in range(100):',
          `        with open(f"${dir}/fill{i}", "wb") as f:`,
          '            for _ in range(4):',
          '                f.write(b"\\0" * (1 << 20))',
          '                written += 1 << 20',
          'except OSError as e:',
          '    print(errno.errorcode[e.errno], written // (1 << 20) , "MiB")',
          `for name in os.listdir("${dir}"):`,
          '    if name.startswith("fill"):',
          `        os.remove(f"${dir}/{name}")`,
        ].join('\n'),
      )
    const tmp = await fill('/tmp')
    expect(tmp.logs).toMatch(/^ENOSPC 1[56] MiB\n$/)
    const data = await fill('/mnt/data')
    expect(data.logs).toMatch(/^ENOSPC 3[12] MiB\n$/)
    expect(data.files).toEqual([])
    const shm = await fill('/dev/shm')
    expect(shm.logs).toMatch(/^ENOSPC 1[56] MiB\n$/)
    await stillWorks(true)
  })

  it('a 2 GB file stops at the file size limit (EFBIG)', async () => {
    const result = await session.run(
      [
        'import os, errno',
        'written = 0',
        'try:',
        '    with open("/mnt/data/huge.bin", "wb") as f:',
        '        while written < 2 * 1024**3:',
        '            f.write(b"\\0" * (1 << 20))',
        '            written += 1 << 20',
        'except OSError as e:',
        '    print(errno.errorcode[e.errno], os.path.getsize("/mnt/data/huge.bin"))',
        'os.remove("/mnt/data/huge.bin")',
      ].join('\n'),
    )
    expect(result.logs).toBe(`EFBIG ${8 * 1024 * 1024}\n`)
    await stillWorks(true)
  })

  it('allocating 8 GB raises MemoryError, and the state survives', async () => {
    const result = await session.run('block = bytearray(8 * 1024**3)')
    expect(result.outcome).toBe('error')
    expect(result.logs).toContain('MemoryError')
    const numpy = await session.run('import numpy as np\nnp.ones((1024, 1024, 1024), dtype=np.float64)')
    expect(numpy.logs).toMatch(/MemoryError|Unable to allocate/)
    await stillWorks(true)
  })

  it('a memory hog in a child process is contained too', async () => {
    const result = await session.run(
      'import subprocess\nr = subprocess.run(["/usr/bin/python3", "-c", "x = bytearray(8 * 1024**3)"], capture_output=True)\nprint(r.returncode, r.stderr.decode().strip().splitlines()[-1])',
    )
    expect(result.logs).toBe('1 MemoryError\n')
    await stillWorks(true)
  })

  it('a symlink to /etc/shadow (or to anything) in /mnt/data is never taken as an output', async () => {
    const result = await session.run(
      [
        'import os',
        'os.symlink("/etc/shadow", "/mnt/data/x")',
        'os.symlink("/proc/self/environ", "/mnt/data/env")',
        'open("/mnt/data/real.txt", "w").write("real")',
        'os.symlink("real.txt", "/mnt/data/link.txt")',
        'os.symlink("/", "/mnt/data/root")',
        'print(sorted(os.listdir("/mnt/data")))',
      ].join('\n'),
    )
    expect(result.logs).toBe("['env', 'link.txt', 'real.txt', 'root', 'x']\n")
    expect(result.files.map((f) => [f.name, f.bytes.toString()])).toEqual([['real.txt', 'real']])
    // A regular file swapped for a symlink after it was written is not taken either.
    const swapped = await session.run('import os\nos.remove("/mnt/data/real.txt")\nos.symlink("/etc/shadow", "/mnt/data/real.txt")')
    expect(swapped.files).toEqual([])
    await session.run('import os\nfor n in os.listdir("/mnt/data"):\n    os.remove(f"/mnt/data/{n}")')
    await stillWorks(true)
  })

  it('a CPU limit hit is an exception in the cell, the state kept', async () => {
    const cpuPool = new SandboxPool(sandboxConfig({ cpuSeconds: 1, callTimeoutMs: 10_000 }))
    try {
      const cpu = await cpuPool.session('cpu')
      await cpu.run('kept = 1')
      const result = await cpu.run('while True:\n    pass')
      expect(result.outcome).toBe('error')
      expect(result.logs).toContain('CpuLimitExceeded: CPU time limit of 1 s exceeded')
      expect((await cpu.run('print(kept)')).logs).toBe('1\n')
    } finally {
      await cpuPool.close()
    }
  }, 60_000)

  it('`while True: pass` past the wall-clock limit is killed and reported; the next call starts fresh', async () => {
    const started = Date.now()
    const result = await session.run('print("before")\nwhile True:\n    pass')
    expect(Date.now() - started).toBeLessThan(9000)
    expect(result.outcome).toBe('timeout')
    expect(result.logs).toBe(
      'before\nExecution timed out after 3 s: the process was killed. The session restarts fresh on the next call: variables, imports and files in /mnt/data are lost.',
    )
    await stillWorks(false)
    // A sleeping grandchild in its own session does not outlive the sandbox either.
    const orphan = await session.run(
      'import subprocess\nsubprocess.Popen(["/usr/bin/sleep", "313"], start_new_session=True)\nwhile True:\n    pass',
    )
    expect(orphan.outcome).toBe('timeout')
    await stillWorks(false)
    const sleepers = fs.readdirSync('/proc').filter((pid) => {
      try {
        return /^\d+$/.test(pid) && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') === '/usr/bin/sleep\u0000313\u0000'
      } catch {
        return false
      }
    })
    expect(sleepers).toEqual([])
  }, 30_000)

  it('the kernel exiting (os._exit) is reported, and the next call starts fresh', async () => {
    const result: SandboxResult = await session.run('import os\nprint("bye")\nos._exit(3)')
    expect(result.outcome).toBe('killed')
    expect(result.logs).toContain('bye\n')
    expect(result.logs).toContain('The process ended unexpectedly (exit code 3)')
    await stillWorks(false)
  })

  it('forged replies on the kernel pipe kill the session, never the host', async () => {
    // The kernel's reply pipe is one of its sockets above fd 9: every one of them gets garbage.
    const result = await session.run(
      [
        'import os, time',
        'for fd in os.listdir("/proc/self/fd"):',
        '    if int(fd) > 9:',
        '        try:',
        '            os.write(int(fd), b"\\xff\\xff\\xff\\xff garbage")',
        '        except OSError:',
        '            pass',
        'time.sleep(5)',
      ].join('\n'),
    )
    expect(result.outcome).toBe('killed')
    expect(result.logs).toContain('malformed reply')
    await stillWorks(false)
  })
})
