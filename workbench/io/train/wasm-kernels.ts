/**
 * The sparse trainer's row kernels (pooling, each touched row's gradient + Adam or SGD) in two
 * implementations with bit-identical results: WebAssembly SIMD (kernels.wat, 2 float64 lanes; about
 * 3–6× the JavaScript loops, which V8 does not vectorise) and plain JavaScript (kernels.ts), the
 * fallback where WebAssembly SIMD or shared memory is missing (feature-detected with
 * WebAssembly.validate) or the tables would not fit a 32-bit memory. The wasm kernels read the tables
 * and the batch's scratch where they live, so a model that uses them allocates all of those from one
 * `WasmArena` (a shared WebAssembly.Memory, which worker threads instantiate the same module over).
 * `WB_SPARSE_SIMD=0` forces the JavaScript kernels (for comparisons).
 */
import { KERNELS_WASM_BASE64 } from "./kernels-wasm.js"
import { adamRowsJs, poolRowsJs, sgdRowsJs } from "./kernels.js"
import type { Weights } from "./weights.js"

/** What the row kernels read and write (all views of one memory when the kernels are wasm). */
export interface RowTables {
  readonly D: number
  readonly emb: Float32Array
  readonly m: Float32Array
  readonly v: Float32Array
  readonly rows: Int32Array
  readonly rowStart: Int32Array
  readonly eSlot: Int32Array
  readonly eW: Float64Array
  readonly tg: Float64Array
}

export interface RowKernels {
  /** out[eSlot[e] ..+D] += eW[e] · emb[rows[k]·D ..] over the entries of rows k0 .. k1 */
  pool(T: RowTables, out: Float64Array, k0: number, k1: number): void
  /** lazy Adam on rows k0 .. k1 with each row's gradient summed into scratch g (D float64s) */
  adam(T: RowTables, g: Float64Array, k0: number, k1: number, a: number, s: number): void
  sgd(T: RowTables, g: Float64Array, k0: number, k1: number, lr: number): void
}

export const jsKernels: RowKernels = { pool: poolRowsJs, adam: adamRowsJs, sgd: sgdRowsJs }

/**
 * The reward model's dense layers per pair (W1 [2D, H]; vectors float64 at offset xo / oo of x / out).
 * The wasm set needs every array it is given (the weights, their gradients, vectors, scratch) to be a
 * view of its arena's memory. JavaScript: `denseJs` (kernels.ts).
 */
export interface DenseKernels {
  /** out = b1 + W1[0:D]ᵀ x: the prompt half of layer 1 */
  promptPre(w: Weights, x: Float64Array, xo: number, out: Float64Array, D: number, H: number): void
  /** pre = pp + W1[D:2D]ᵀ x, h = relu(pre); returns b2 + w2ᵀh */
  respScore(
    w: Weights,
    x: Float64Array,
    xo: number,
    pp: Float64Array,
    pre: Float64Array,
    h: Float64Array,
    D: number,
    H: number
  ): number
  /** backward of ds · score: g.b2, g.w2, g.b1, g.w1[D:2D] accumulated; dh = dL/dpre, dhSum += dh; out[oo ..] += dL/dx */
  respBackward(
    ds: number,
    w: Weights,
    g: Weights,
    x: Float64Array,
    xo: number,
    pre: Float64Array,
    h: Float64Array,
    dh: Float64Array,
    dhSum: Float64Array,
    out: Float64Array,
    oo: number,
    D: number,
    H: number
  ): void
  /** from dL/dpre = d: g.w1[0:D] accumulated, out[oo ..] += dL/dx */
  promptBackward(
    w: Weights,
    g: Weights,
    x: Float64Array,
    xo: number,
    d: Float64Array,
    out: Float64Array,
    oo: number,
    D: number,
    H: number
  ): void
}

/** The byte offsets of a batch's row entries (RowTables' rows, rowStart, eSlot, eW): every row kernel takes them. */
type EntryArgs = [rows: number, start: number, eSlot: number, eW: number]
/** The arguments adamRows and sgdRows share after the table's own: the entries, tg and scratch g, rows k0 .. k1. */
type UpdateArgs = [...entries: EntryArgs, tg: number, g: number, k0: number, k1: number, D: number]

const entryArgs = (T: RowTables): EntryArgs => [
  T.rows.byteOffset,
  T.rowStart.byteOffset,
  T.eSlot.byteOffset,
  T.eW.byteOffset
]
const updateArgs = (T: RowTables, g: Float64Array, k0: number, k1: number): UpdateArgs => [
  ...entryArgs(T),
  T.tg.byteOffset,
  g.byteOffset,
  k0,
  k1,
  T.D
]

interface Exports {
  pool(E: number, ...args: [...entries: EntryArgs, out: number, k0: number, k1: number, D: number]): void
  adamRows(E: number, M: number, V: number, ...args: [...update: UpdateArgs, a: number, s: number]): void
  sgdRows(E: number, ...args: [...update: UpdateArgs, lr: number]): void
  promptPre(w1: number, b1: number, x: number, out: number, D: number, H: number): void
  respScore(
    w1: number,
    w2: number,
    b2: number,
    x: number,
    pp: number,
    pre: number,
    h: number,
    D: number,
    H: number
  ): number
  respBackward(
    ds: number,
    w1: number,
    w2: number,
    gw1: number,
    gb1: number,
    gw2: number,
    gb2: number,
    x: number,
    pre: number,
    h: number,
    dh: number,
    dhSum: number,
    out: number,
    D: number,
    H: number
  ): void
  rowGrads(gW: number, W: number, x: number, d: number, out: number, D: number, H: number): void
}

/** The kernels over a wasm instance (every array passed must be a view of its memory). */
export const wasmKernels = (x: Exports): RowKernels => ({
  pool: (T, out, k0, k1) => x.pool(T.emb.byteOffset, ...entryArgs(T), out.byteOffset, k0, k1, T.D),
  adam: (T, g, k0, k1, a, s) =>
    x.adamRows(T.emb.byteOffset, T.m.byteOffset, T.v.byteOffset, ...updateArgs(T, g, k0, k1), a, s),
  sgd: (T, g, k0, k1, lr) => x.sgdRows(T.emb.byteOffset, ...updateArgs(T, g, k0, k1), lr)
})

/** The dense kernels over a wasm instance (byte offsets of arena views; float64 vectors: 8 bytes an element). */
export const wasmDense = (e: Exports): DenseKernels => ({
  promptPre: (w, x, xo, out, D, H) =>
    e.promptPre(w.w1.byteOffset, w.b1.byteOffset, x.byteOffset + 8 * xo, out.byteOffset, D, H),
  respScore: (w, x, xo, pp, pre, h, D, H) =>
    e.respScore(
      w.w1.byteOffset,
      w.w2.byteOffset,
      w.b2.byteOffset,
      x.byteOffset + 8 * xo,
      pp.byteOffset,
      pre.byteOffset,
      h.byteOffset,
      D,
      H
    ),
  respBackward: (ds, w, g, x, xo, pre, h, dh, dhSum, out, oo, D, H) =>
    e.respBackward(
      ds,
      w.w1.byteOffset,
      w.w2.byteOffset,
      g.w1.byteOffset,
      g.b1.byteOffset,
      g.w2.byteOffset,
      g.b2.byteOffset,
      x.byteOffset + 8 * xo,
      pre.byteOffset,
      h.byteOffset,
      dh.byteOffset,
      dhSum.byteOffset,
      out.byteOffset + 8 * oo,
      D,
      H
    ),
  promptBackward: (w, g, x, xo, d, out, oo, D, H) =>
    e.rowGrads(g.w1.byteOffset, w.w1.byteOffset, x.byteOffset + 8 * xo, d.byteOffset, out.byteOffset + 8 * oo, D, H)
})

let compiled: WebAssembly.Module | null | undefined

/** The compiled kernels, or null where this runtime lacks WebAssembly SIMD or shared memory. */
export function kernelsModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    const bytes = Buffer.from(KERNELS_WASM_BASE64, "base64")
    compiled = typeof WebAssembly === "object" && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null
  }
  return compiled
}

const PAGE = 65536
/** wasm32 addresses stop at 4 GiB; tables past this much stay in JavaScript arrays. */
const MAX_TABLE_BYTES = 3 * 2 ** 30

/**
 * A shared WebAssembly.Memory handed out as typed arrays (a bump allocator: the trainer grows its
 * scratch by doubling and never frees, so at most about as much again is left behind). Growing a
 * shared memory keeps earlier views valid, so arrays handed out stay usable.
 */
export class WasmArena {
  readonly memory: WebAssembly.Memory
  readonly kernels: RowKernels
  readonly dense: DenseKernels
  private top = 16

  private constructor(
    readonly module: WebAssembly.Module,
    bytes: number
  ) {
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / PAGE), maximum: 65536, shared: true })
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } })
    const exports = instance.exports as unknown as Exports
    this.kernels = wasmKernels(exports)
    this.dense = wasmDense(exports)
  }

  /** An arena sized for `tableBytes` of tables (plus room for scratch), or null: use the JS kernels. */
  static create(tableBytes: number): WasmArena | null {
    if (process.env["WB_SPARSE_SIMD"] === "0" || tableBytes > MAX_TABLE_BYTES) return null
    const module = kernelsModule()
    return module === null ? null : new WasmArena(module, tableBytes + 16 * 2 ** 20)
  }

  private alloc(bytes: number): number {
    const at = (this.top + 15) & ~15,
      end = at + bytes,
      have = this.memory.buffer.byteLength
    if (end > have) {
      const need = Math.ceil((end - have) / PAGE)
      try {
        this.memory.grow(Math.max(need, Math.ceil(have / PAGE / 4)))
      } catch {
        this.memory.grow(need) // near the 4 GiB cap: only what is needed (throws past it)
      }
    }
    this.top = end
    return at
  }

  f32(n: number): Float32Array {
    const at = this.alloc(n * 4)
    return new Float32Array(this.memory.buffer, at, n)
  }
  f64(n: number): Float64Array {
    const at = this.alloc(n * 8)
    return new Float64Array(this.memory.buffer, at, n)
  }
  i32(n: number): Int32Array {
    const at = this.alloc(n * 4)
    return new Int32Array(this.memory.buffer, at, n)
  }
}
