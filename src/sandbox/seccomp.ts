/**
 * The sandbox's seccomp filter as a classic BPF program, the bytes `bwrap --seccomp FD` reads.
 * Built here rather than with libseccomp so that no binding (python3-seccomp) is needed: the
 * program is a flat list of comparisons, two instructions per denied call, so no jump is long.
 *
 * Denied with EPERM: debugging other processes, mounts and namespaces, kernel keyrings, eBPF,
 * perf, io_uring, userfaultfd, modules, clocks, swap, reboot, handle-based opens. `socket()` is
 * allowed for AF_UNIX only (EAFNOSUPPORT otherwise), on top of the empty network namespace.
 * `clone` with a namespace flag is EPERM; `clone3`, whose flags sit behind a pointer the filter
 * cannot read, is ENOSYS so that libc falls back to `clone`. Another architecture's calls (i386
 * through int 0x80, x32) kill the process.
 */

type Arch = { audit: number; syscalls: Record<string, number>; x32Bit?: boolean }

// Numbers from the kernel's uapi headers (asm/unistd_64.h; asm-generic/unistd.h for arm64).
const X86_64: Arch = {
  audit: 0xc000003e,
  x32Bit: true,
  syscalls: {
    ptrace: 101, mount: 165, umount2: 166, pivot_root: 155, chroot: 161, unshare: 272, setns: 308,
    bpf: 321, perf_event_open: 298, io_uring_setup: 425, io_uring_enter: 426,
    io_uring_register: 427, keyctl: 250, add_key: 248, request_key: 249, userfaultfd: 323,
    kexec_load: 246, kexec_file_load: 320, init_module: 175, finit_module: 313,
    delete_module: 176, reboot: 169, swapon: 167, swapoff: 168, process_vm_readv: 310,
    process_vm_writev: 311, open_by_handle_at: 304, name_to_handle_at: 303, fanotify_init: 300,
    acct: 163, settimeofday: 164, clock_settime: 227, clock_adjtime: 305, adjtimex: 159,
    syslog: 103, quotactl: 179, vhangup: 153, fsopen: 430, fsconfig: 431, fsmount: 432,
    move_mount: 429, open_tree: 428, fspick: 433, mount_setattr: 442, kcmp: 312,
    pidfd_getfd: 438, lookup_dcookie: 212, uselib: 134, iopl: 172, ioperm: 173,
    socket: 41, clone: 56, clone3: 435,
  },
}

const AARCH64: Arch = {
  audit: 0xc00000b7,
  syscalls: {
    ptrace: 117, mount: 40, umount2: 39, pivot_root: 41, chroot: 51, unshare: 97, setns: 268,
    bpf: 280, perf_event_open: 241, io_uring_setup: 425, io_uring_enter: 426,
    io_uring_register: 427, keyctl: 219, add_key: 217, request_key: 218, userfaultfd: 282,
    kexec_load: 104, kexec_file_load: 294, init_module: 105, finit_module: 273,
    delete_module: 106, reboot: 142, swapon: 224, swapoff: 225, process_vm_readv: 270,
    process_vm_writev: 271, open_by_handle_at: 265, name_to_handle_at: 264, fanotify_init: 262,
    acct: 89, settimeofday: 170, clock_settime: 112, clock_adjtime: 266, adjtimex: 171,
    syslog: 116, quotactl: 60, vhangup: 58, fsopen: 430, fsconfig: 431, fsmount: 432,
    move_mount: 429, open_tree: 428, fspick: 433, mount_setattr: 442, kcmp: 272,
    pidfd_getfd: 438, lookup_dcookie: 18, socket: 198, clone: 220, clone3: 435,
  },
}

const ARCHES: Record<string, Arch> = { x64: X86_64, arm64: AARCH64 }

const SPECIAL = new Set(['socket', 'clone', 'clone3'])

// BPF opcodes and seccomp return values (linux/filter.h, linux/seccomp.h).
const LD_W_ABS = 0x20
const JEQ_K = 0x15
const JGE_K = 0x35
const JSET_K = 0x45
const RET_K = 0x06
const RET_KILL_PROCESS = 0x80000000
const RET_ALLOW = 0x7fff0000
const retErrno = (errno: number) => 0x00050000 | errno
const EPERM = 1
const ENOSYS = 38
const EAFNOSUPPORT = 97
const AF_UNIX = 1
// struct seccomp_data: nr at 0, arch at 4, args[0] (low half on little-endian) at 16.
const OFFSET_NR = 0
const OFFSET_ARCH = 4
const OFFSET_ARG0 = 16
const CLONE_NAMESPACES =
  0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x80

/** The architectures the filter knows (Node's `process.arch` names). */
export function seccompSupported(arch: string = process.arch): boolean {
  return arch in ARCHES
}

/** The filter for `arch`, as the little-endian `struct sock_filter[]` bwrap loads. */
export function buildSeccompFilter(arch: string = process.arch): Buffer {
  const spec = ARCHES[arch]
  if (!spec) throw new Error(`no seccomp filter for architecture ${arch}`)
  const program: [number, number, number, number][] = []
  const op = (code: number, jt: number, jf: number, k: number) => program.push([code, jt, jf, k])
  const { syscalls } = spec

  op(LD_W_ABS, 0, 0, OFFSET_ARCH)
  op(JEQ_K, 1, 0, spec.audit)
  op(RET_K, 0, 0, RET_KILL_PROCESS)
  op(LD_W_ABS, 0, 0, OFFSET_NR)
  if (spec.x32Bit) {
    op(JGE_K, 0, 1, 0x40000000)
    op(RET_K, 0, 0, RET_KILL_PROCESS)
  }
  for (const [name, nr] of Object.entries(syscalls)) {
    if (SPECIAL.has(name)) continue
    op(JEQ_K, 0, 1, nr)
    op(RET_K, 0, 0, retErrno(EPERM))
  }
  op(JEQ_K, 0, 1, syscalls.clone3)
  op(RET_K, 0, 0, retErrno(ENOSYS))
  // socket(domain, ...): AF_UNIX only. The accumulator is reloaded with nr after each branch.
  op(JEQ_K, 0, 4, syscalls.socket)
  op(LD_W_ABS, 0, 0, OFFSET_ARG0)
  op(JEQ_K, 1, 0, AF_UNIX)
  op(RET_K, 0, 0, retErrno(EAFNOSUPPORT))
  op(RET_K, 0, 0, RET_ALLOW)
  // clone(flags, ...): no new namespaces.
  op(JEQ_K, 0, 3, syscalls.clone)
  op(LD_W_ABS, 0, 0, OFFSET_ARG0)
  op(JSET_K, 0, 1, CLONE_NAMESPACES)
  op(RET_K, 0, 0, retErrno(EPERM))
  op(RET_K, 0, 0, RET_ALLOW)

  const bytes = Buffer.alloc(program.length * 8)
  program.forEach(([code, jt, jf, k], i) => {
    bytes.writeUInt16LE(code, i * 8)
    bytes.writeUInt8(jt, i * 8 + 2)
    bytes.writeUInt8(jf, i * 8 + 3)
    bytes.writeUInt32LE(k >>> 0, i * 8 + 4)
  })
  return bytes
}
