import fs from 'node:fs'

/**
 * GGUF v3, as much as the trainer needs: the metadata of any file, and the tensors of F32/F16
 * ones (read as Float32Array); and a writer for the LoRA adapter files llama.cpp loads. The
 * format: github.com/ggml-org/ggml/blob/master/docs/gguf.md.
 */

export const GGML_F32 = 0
export const GGML_F16 = 1

const MAGIC = 0x46554747 // 'GGUF' little-endian
const DEFAULT_ALIGNMENT = 32

enum ValueType {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
}

export type GgufValue = number | bigint | boolean | string | GgufValue[]

export type TensorInfo = {
  name: string
  /** ggml order: ne[0] is the contiguous (innermost) dimension. */
  ne: number[]
  type: number
  /** Byte offset in the data section. */
  offset: number
}

export type GgufHeader = {
  version: number
  metadata: Map<string, GgufValue>
  tensors: TensorInfo[]
  /** Where the tensor data starts in the file. */
  dataOffset: number
}

/** Thrown by the cursor when the header runs past the bytes read so far. */
class Truncated extends Error {}

class Cursor {
  pos = 0
  constructor(private readonly buf: Buffer) {}
  private need(n: number) {
    if (this.pos + n > this.buf.length) throw new Truncated()
  }
  u32() {
    this.need(4)
    const v = this.buf.readUInt32LE(this.pos)
    this.pos += 4
    return v
  }
  u64() {
    this.need(8)
    const v = this.buf.readBigUInt64LE(this.pos)
    this.pos += 8
    return Number(v)
  }
  string() {
    const n = this.u64()
    this.need(n)
    const s = this.buf.toString('utf8', this.pos, this.pos + n)
    this.pos += n
    return s
  }
  value(type: ValueType): GgufValue {
    const b = this.buf
    const size = SIZES[type]
    if (size) this.need(size)
    const at = this.pos
    this.pos += size ?? 0
    switch (type) {
      case ValueType.U8:
        return b.readUInt8(at)
      case ValueType.I8:
        return b.readInt8(at)
      case ValueType.U16:
        return b.readUInt16LE(at)
      case ValueType.I16:
        return b.readInt16LE(at)
      case ValueType.U32:
        return b.readUInt32LE(at)
      case ValueType.I32:
        return b.readInt32LE(at)
      case ValueType.F32:
        return b.readFloatLE(at)
      case ValueType.BOOL:
        return b.readUInt8(at) !== 0
      case ValueType.U64:
        return b.readBigUInt64LE(at)
      case ValueType.I64:
        return b.readBigInt64LE(at)
      case ValueType.F64:
        return b.readDoubleLE(at)
      case ValueType.STRING:
        return this.string()
      case ValueType.ARRAY: {
        const itemType = this.u32() as ValueType
        const count = this.u64()
        const items: GgufValue[] = new Array(count)
        for (let i = 0; i < count; i++) items[i] = this.value(itemType)
        return items
      }
      default:
        throw new Error(`unknown GGUF value type ${type}`)
    }
  }
}

const SIZES: Partial<Record<ValueType, number>> = {
  [ValueType.U8]: 1,
  [ValueType.I8]: 1,
  [ValueType.U16]: 2,
  [ValueType.I16]: 2,
  [ValueType.U32]: 4,
  [ValueType.I32]: 4,
  [ValueType.F32]: 4,
  [ValueType.BOOL]: 1,
  [ValueType.U64]: 8,
  [ValueType.I64]: 8,
  [ValueType.F64]: 8,
}

function parseHeader(buf: Buffer): GgufHeader {
  const c = new Cursor(buf)
  if (c.u32() !== MAGIC) throw new Error('not a GGUF file')
  const version = c.u32()
  if (version < 2 || version > 3) throw new Error(`unsupported GGUF version ${version}`)
  const tensorCount = c.u64()
  const kvCount = c.u64()
  const metadata = new Map<string, GgufValue>()
  for (let i = 0; i < kvCount; i++) {
    const key = c.string()
    metadata.set(key, c.value(c.u32() as ValueType))
  }
  const tensors: TensorInfo[] = []
  for (let i = 0; i < tensorCount; i++) {
    const name = c.string()
    const dims = c.u32()
    const ne: number[] = []
    for (let d = 0; d < dims; d++) ne.push(c.u64())
    tensors.push({ name, ne, type: c.u32(), offset: c.u64() })
  }
  const alignment = Number(metadata.get('general.alignment') ?? DEFAULT_ALIGNMENT)
  return { version, metadata, tensors, dataOffset: alignUp(c.pos, alignment) }
}

/** The header only: reads the file's start, more of it while the header runs past what was read. */
export function readGgufHeader(file: string): GgufHeader {
  const fd = fs.openSync(file, 'r')
  try {
    const size = fs.fstatSync(fd).size
    for (let length = Math.min(size, 1 << 20); ; length = Math.min(size, length * 4)) {
      const buf = Buffer.alloc(length)
      fs.readSync(fd, buf, 0, length, 0)
      try {
        return parseHeader(buf)
      } catch (error) {
        if (!(error instanceof Truncated)) throw error
        if (length === size) throw new Error('truncated GGUF file')
      }
    }
  } finally {
    fs.closeSync(fd)
  }
}

export type GgufFile = GgufHeader & {
  /** An F32/F16 tensor's values as float32 (row-major, ne[0] innermost). */
  tensor(name: string): Float32Array | undefined
}

/**
 * The header, and the F32/F16 tensors read one at a time on request (never the whole file at
 * once: a 0.5B F32 model is 2 GB, past what one Buffer read takes).
 */
export function readGguf(file: string): GgufFile {
  const header = readGgufHeader(file)
  const byName = new Map(header.tensors.map((t) => [t.name, t]))
  return {
    ...header,
    tensor(name) {
      const info = byName.get(name)
      if (!info) return undefined
      const count = info.ne.reduce((a, b) => a * b, 1)
      const start = header.dataOffset + info.offset
      if (info.type !== GGML_F32 && info.type !== GGML_F16)
        throw new Error(`tensor ${name} has ggml type ${info.type}; only F32 and F16 are read`)
      const out = new Float32Array(count)
      const fd = fs.openSync(file, 'r')
      try {
        if (info.type === GGML_F32) {
          readFully(fd, new Uint8Array(out.buffer), start)
        } else {
          const half = new Uint16Array(count)
          readFully(fd, new Uint8Array(half.buffer), start)
          for (let i = 0; i < count; i++) out[i] = halfToFloat(half[i])
        }
      } finally {
        fs.closeSync(fd)
      }
      return out
    },
  }
}

function readFully(fd: number, into: Uint8Array, position: number) {
  let done = 0
  while (done < into.length) {
    const n = fs.readSync(fd, into, done, into.length - done, position + done)
    if (n === 0) throw new Error('truncated GGUF file')
    done += n
  }
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1
  const exp = (h >> 10) & 0x1f
  const frac = h & 0x3ff
  if (exp === 0) return sign * frac * 2 ** -24
  if (exp === 31) return frac ? NaN : sign * Infinity
  return sign * (1 + frac / 1024) * 2 ** (exp - 15)
}

export type WriteValue =
  | { type: 'string'; value: string }
  | { type: 'f32'; value: number }
  | { type: 'u32'; value: number }

export type WriteTensor = { name: string; ne: number[]; data: Float32Array }

/** Writes a GGUF v3 file of F32 tensors, aligned to 32 bytes. */
export function writeGguf(file: string, metadata: [string, WriteValue][], tensors: WriteTensor[]) {
  const parts: Buffer[] = []
  const u32 = (v: number) => {
    const b = Buffer.alloc(4)
    b.writeUInt32LE(v)
    parts.push(b)
  }
  const u64 = (v: number) => {
    const b = Buffer.alloc(8)
    b.writeBigUInt64LE(BigInt(v))
    parts.push(b)
  }
  const str = (s: string) => {
    const bytes = Buffer.from(s, 'utf8')
    u64(bytes.length)
    parts.push(bytes)
  }
  u32(MAGIC)
  u32(3)
  u64(tensors.length)
  u64(metadata.length)
  for (const [key, v] of metadata) {
    str(key)
    if (v.type === 'string') {
      u32(ValueType.STRING)
      str(v.value)
    } else if (v.type === 'u32') {
      u32(ValueType.U32)
      u32(v.value)
    } else {
      u32(ValueType.F32)
      const b = Buffer.alloc(4)
      b.writeFloatLE(v.value)
      parts.push(b)
    }
  }
  let offset = 0
  for (const t of tensors) {
    if (t.data.length !== t.ne.reduce((a, b) => a * b, 1))
      throw new Error(`tensor ${t.name}: ${t.data.length} values for shape ${t.ne}`)
    str(t.name)
    u32(t.ne.length)
    for (const n of t.ne) u64(n)
    u32(GGML_F32)
    u64(offset)
    offset = alignUp(offset + t.data.byteLength, DEFAULT_ALIGNMENT)
  }
  const headerLength = parts.reduce((n, b) => n + b.length, 0)
  parts.push(Buffer.alloc(alignUp(headerLength, DEFAULT_ALIGNMENT) - headerLength))
  for (const t of tensors) {
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)
    parts.push(bytes, Buffer.alloc(alignUp(bytes.length, DEFAULT_ALIGNMENT) - bytes.length))
  }
  // written beside and renamed, so a reader (the server loading a checkpoint) never sees half a file
  const partial = `${file}.part`
  fs.writeFileSync(partial, Buffer.concat(parts))
  fs.renameSync(partial, file)
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment
}
