/**
 * A dependency-free writer of tiny random-weight llama GGUF (v3) files that node-llama-cpp and llama.cpp
 * load: 158 KB, a 262-token byte vocabulary (every character but the space falls back to byte tokens),
 * a ChatML chat template, F32 weights from a seeded PRNG. It exists so tests, examples and users can run
 * the in-process judge and `wb llm serve` offline, with nothing downloaded: the answers are random text,
 * so it proves protocol, bookkeeping and determinism, never label quality.
 *
 * Same seed → byte-identical file; another seed → other weights. `wb llm tiny-model <path> [--seed N]`.
 * Format: header `GGUF`, version 3, tensor count, KV count; metadata KVs; tensor infos (name, dims in
 * ggml order, type 0 = F32, offset); padding to 32; the data, each tensor padded to 32.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"

export interface TinyGgufOptions {
  /** Weights PRNG seed (default 42). */
  readonly seed?: number
  /** d_model (default 32). */
  readonly nEmbd?: number
  readonly nLayer?: number
  /** Heads (default 4; head dim = nEmbd / nHead). */
  readonly nHead?: number
  /** Feed-forward width (default 64). */
  readonly nFf?: number
  /** llama.context_length (default 512): keep it small, a context defaults to it. */
  readonly contextLength?: number
  readonly chatTemplate?: string
}

/** Minimal ChatML (jinja), stored in tokenizer.chat_template: node-llama-cpp resolves it to its ChatML wrapper. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

/** Token ids of the tiny vocabulary; byte b is token `firstByte + b`. */
export const TINY_TOKENS = { unk: 0, bos: 1, eos: 2, imStart: 3, imEnd: 4, space: 5, firstByte: 6 } as const

/** The model name written to general.name (and reported by `wb llm serve` for it). */
export const TINY_MODEL_NAME = "tiny-random-llama"

// GGUF value types
const U32 = 4
const I32 = 5
const F32 = 6
const BOOL = 7
const STR = 8
const ARR = 9
type Kv = readonly [key: string, type: number, value: unknown, arrayType?: number]
interface Tensor {
  readonly name: string
  readonly dims: ReadonlyArray<number>
  readonly data: Float32Array
}

/** A growable little-endian byte buffer. */
class ByteWriter {
  private buf = Buffer.alloc(1 << 16)
  length = 0
  private need(n: number): void {
    if (this.length + n <= this.buf.length) return
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n))
    this.buf.copy(next, 0, 0, this.length)
    this.buf = next
  }
  u8(v: number): void {
    this.need(1)
    this.buf.writeUInt8(v, this.length)
    this.length += 1
  }
  u32(v: number): void {
    this.need(4)
    this.buf.writeUInt32LE(v, this.length)
    this.length += 4
  }
  i32(v: number): void {
    this.need(4)
    this.buf.writeInt32LE(v, this.length)
    this.length += 4
  }
  u64(v: number): void {
    this.need(8)
    this.buf.writeBigUInt64LE(BigInt(v), this.length)
    this.length += 8
  }
  f32(v: number): void {
    this.need(4)
    this.buf.writeFloatLE(v, this.length)
    this.length += 4
  }
  bytes(b: Uint8Array): void {
    this.need(b.length)
    this.buf.set(b, this.length)
    this.length += b.length
  }
  str(s: string): void {
    const e = Buffer.from(s, "utf8")
    this.u64(e.length)
    this.bytes(e)
  }
  pad(align: number): void {
    while (this.length % align !== 0) this.u8(0)
  }
  out(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.length))
  }
}

function writeValue(w: ByteWriter, type: number, v: unknown, arrayType?: number): void {
  if (type === U32) w.u32(v as number)
  else if (type === I32) w.i32(v as number)
  else if (type === F32) w.f32(v as number)
  else if (type === BOOL) w.u8(v ? 1 : 0)
  else if (type === STR) w.str(v as string)
  else if (type === ARR) {
    const items = v as ReadonlyArray<unknown>
    w.u32(arrayType!)
    w.u64(items.length)
    for (const x of items) writeValue(w, arrayType!, x)
  } else throw new Error(`GGUF value type ${type} is not written by this writer`)
}

/** mulberry32: a tiny deterministic PRNG in [0, 1), so a seed fixes every weight on every platform. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function vocabulary(): { readonly tokens: Array<string>; readonly types: Array<number> } {
  // types: 1 normal, 2 unknown, 3 control, 6 byte; "▁" (U+2581) is SentencePiece's space
  const tokens = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>", "\u2581"]
  const types = [2, 3, 3, 3, 3, 1]
  for (let i = 0; i < 256; i++) {
    tokens.push(`<0x${i.toString(16).toUpperCase().padStart(2, "0")}>`)
    types.push(6)
  }
  return { tokens, types }
}

/** The GGUF file's bytes. */
export function buildTinyGguf(options: TinyGgufOptions = {}): Buffer {
  const { seed = 42, nEmbd = 32, nLayer = 2, nHead = 4, nFf = 64, contextLength = 512 } = options
  const rand = mulberry32(seed)
  const { tokens, types } = vocabulary()
  const kv: ReadonlyArray<Kv> = [
    ["general.architecture", STR, "llama"],
    ["general.name", STR, TINY_MODEL_NAME],
    ["general.file_type", U32, 0], // all F32
    ["llama.context_length", U32, contextLength],
    ["llama.embedding_length", U32, nEmbd],
    ["llama.block_count", U32, nLayer],
    ["llama.feed_forward_length", U32, nFf],
    ["llama.attention.head_count", U32, nHead],
    ["llama.attention.head_count_kv", U32, nHead],
    ["llama.attention.layer_norm_rms_epsilon", F32, 1e-5],
    ["llama.rope.dimension_count", U32, nEmbd / nHead],
    ["llama.rope.freq_base", F32, 10000],
    ["llama.vocab_size", U32, tokens.length],
    ["tokenizer.ggml.model", STR, "llama"],
    ["tokenizer.ggml.tokens", ARR, tokens, STR],
    ["tokenizer.ggml.scores", ARR, tokens.map(() => 0), F32],
    ["tokenizer.ggml.token_type", ARR, types, I32],
    ["tokenizer.ggml.unknown_token_id", U32, TINY_TOKENS.unk],
    ["tokenizer.ggml.bos_token_id", U32, TINY_TOKENS.bos],
    ["tokenizer.ggml.eos_token_id", U32, TINY_TOKENS.eos],
    ["tokenizer.ggml.eot_token_id", U32, TINY_TOKENS.imEnd],
    ["tokenizer.ggml.add_bos_token", BOOL, true],
    ["tokenizer.ggml.add_eos_token", BOOL, false],
    ["tokenizer.ggml.add_space_prefix", BOOL, false],
    ["tokenizer.chat_template", STR, options.chatTemplate ?? CHATML_TEMPLATE]
  ]

  // dims in ggml order: ne[0] is the row length
  const tensors: Array<Tensor> = []
  const add = (name: string, dims: ReadonlyArray<number>, init: "ones" | "rand") => {
    const n = dims.reduce((a, b) => a * b, 1)
    const data = new Float32Array(n)
    const scale = 1 / Math.sqrt(dims[0]!) // uniform with variance 1/fan_in
    for (let i = 0; i < n; i++) data[i] = init === "ones" ? 1 : (rand() * 2 - 1) * Math.sqrt(3) * scale
    tensors.push({ name, dims, data })
  }
  add("token_embd.weight", [nEmbd, tokens.length], "rand")
  for (let l = 0; l < nLayer; l++) {
    add(`blk.${l}.attn_norm.weight`, [nEmbd], "ones")
    add(`blk.${l}.attn_q.weight`, [nEmbd, nEmbd], "rand")
    add(`blk.${l}.attn_k.weight`, [nEmbd, nEmbd], "rand")
    add(`blk.${l}.attn_v.weight`, [nEmbd, nEmbd], "rand")
    add(`blk.${l}.attn_output.weight`, [nEmbd, nEmbd], "rand")
    add(`blk.${l}.ffn_norm.weight`, [nEmbd], "ones")
    add(`blk.${l}.ffn_gate.weight`, [nEmbd, nFf], "rand")
    add(`blk.${l}.ffn_up.weight`, [nEmbd, nFf], "rand")
    add(`blk.${l}.ffn_down.weight`, [nFf, nEmbd], "rand")
  }
  add("output_norm.weight", [nEmbd], "ones")
  add("output.weight", [nEmbd, tokens.length], "rand")

  const ALIGN = 32 // GGUF's default general.alignment
  const w = new ByteWriter()
  w.bytes(Buffer.from("GGUF", "ascii"))
  w.u32(3)
  w.u64(tensors.length)
  w.u64(kv.length)
  for (const [key, type, value, arrayType] of kv) {
    w.str(key)
    w.u32(type)
    writeValue(w, type, value, arrayType)
  }
  let offset = 0
  for (const t of tensors) {
    w.str(t.name)
    w.u32(t.dims.length)
    for (const d of t.dims) w.u64(d)
    w.u32(0) // ggml type F32
    w.u64(offset) // relative to the start of the data section
    offset += Math.ceil(t.data.byteLength / ALIGN) * ALIGN
  }
  w.pad(ALIGN)
  for (const t of tensors) {
    w.bytes(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))
    w.pad(ALIGN)
  }
  return w.out()
}

/**
 * Write the model to `path` (folders created) and return its size in bytes. Written under a temporary
 * name and renamed, so a server or test reading the path never sees half a file.
 */
export function writeTinyGguf(path: string, options?: TinyGgufOptions): number {
  const bytes = buildTinyGguf(options)
  mkdirSync(dirname(path), { recursive: true })
  const tmp = `${path}.tmp-${process.pid}`
  writeFileSync(tmp, bytes)
  renameSync(tmp, path)
  return bytes.length
}
