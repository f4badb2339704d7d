import { describe, expect, it } from 'vitest'
import { buildSeccompFilter, seccompSupported } from './seccomp.js'

type Instruction = { code: number; jt: number; jf: number; k: number }

function decode(bytes: Buffer): Instruction[] {
  const program: Instruction[] = []
  for (let i = 0; i < bytes.length; i += 8) {
    program.push({ code: bytes.readUInt16LE(i), jt: bytes[i + 2], jf: bytes[i + 3], k: bytes.readUInt32LE(i + 4) })
  }
  return program
}

/** A tiny classic-BPF interpreter over struct seccomp_data, enough for this filter's opcodes. */
function run(program: Instruction[], data: { nr: number; arch: number; arg0?: number }): number {
  let accumulator = 0
  for (let pc = 0; pc < program.length; pc++) {
    const { code, jt, jf, k } = program[pc]
    if (code === 0x20) accumulator = k === 0 ? data.nr : k === 4 ? data.arch : k === 16 ? (data.arg0 ?? 0) : NaN
    else if (code === 0x15) pc += accumulator === k ? jt : jf
    else if (code === 0x35) pc += accumulator >= k ? jt : jf
    else if (code === 0x45) pc += (accumulator & k) !== 0 ? jt : jf
    else if (code === 0x06) return k
    else throw new Error(`unknown opcode ${code}`)
  }
  throw new Error('fell off the program')
}

const X86_64 = 0xc000003e
const ALLOW = 0x7fff0000
const EPERM = 0x00050001
const KILL = 0x80000000

describe('seccomp filter', () => {
  const program = decode(buildSeccompFilter('x64'))

  it('allows ordinary calls, denies the dangerous ones with EPERM', () => {
    expect(run(program, { nr: 0, arch: X86_64 })).toBe(ALLOW) // read
    expect(run(program, { nr: 57, arch: X86_64 })).toBe(ALLOW) // fork
    expect(run(program, { nr: 101, arch: X86_64 })).toBe(EPERM) // ptrace
    expect(run(program, { nr: 165, arch: X86_64 })).toBe(EPERM) // mount
    expect(run(program, { nr: 272, arch: X86_64 })).toBe(EPERM) // unshare
    expect(run(program, { nr: 425, arch: X86_64 })).toBe(EPERM) // io_uring_setup
    expect(run(program, { nr: 435, arch: X86_64 })).toBe(0x00050000 | 38) // clone3: ENOSYS
  })

  it('allows socket() for AF_UNIX only', () => {
    expect(run(program, { nr: 41, arch: X86_64, arg0: 1 })).toBe(ALLOW)
    expect(run(program, { nr: 41, arch: X86_64, arg0: 2 })).toBe(0x00050000 | 97)
    expect(run(program, { nr: 41, arch: X86_64, arg0: 16 })).toBe(0x00050000 | 97) // netlink
  })

  it('allows clone without namespace flags', () => {
    expect(run(program, { nr: 56, arch: X86_64, arg0: 0x01200011 })).toBe(ALLOW) // fork-like
    expect(run(program, { nr: 56, arch: X86_64, arg0: 0x10000000 })).toBe(EPERM) // CLONE_NEWUSER
    expect(run(program, { nr: 56, arch: X86_64, arg0: 0x40000011 })).toBe(EPERM) // CLONE_NEWNET
  })

  it('kills calls of another ABI: i386, x32', () => {
    expect(run(program, { nr: 1, arch: 0x40000003 })).toBe(KILL)
    expect(run(program, { nr: 0x40000000 + 1, arch: X86_64 })).toBe(KILL)
  })

  it('keeps every jump short enough for BPF and the program small', () => {
    expect(program.length).toBeLessThan(200)
    const jumps = program.map((op, pc) => ({ ...op, pc })).filter((op) => (op.code & 7) === 5)
    expect(jumps.every((op) => op.pc + 1 + Math.max(op.jt, op.jf) < program.length)).toBe(true)
    expect(program.at(-1)!.code).toBe(0x06)
    expect(seccompSupported('x64') && seccompSupported('arm64') && !seccompSupported('ia32')).toBe(true)
    expect(decode(buildSeccompFilter('arm64')).length).toBeGreaterThan(50)
  })
})
