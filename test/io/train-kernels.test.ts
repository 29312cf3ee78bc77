/**
 * The sparse trainer's WebAssembly SIMD row kernels (kernels.wat) against their JavaScript twins
 * (kernels.ts): bit-identical pooled sums, Adam moments and weights on random tables, for a dimension
 * that fills the SIMD lanes (64) and one that leaves a tail (7); a whole model trained with either
 * kernel set (and with worker threads running the wasm kernels) gives the same losses and weights
 * bit for bit; and the committed bytes (kernels-wasm.ts) are what kernels.wat compiles to today.
 */
import { readFileSync } from "node:fs"
import wabtInit from "wabt"
import { describe, expect, it } from "vitest"
import type { ModelConfig, PairSet } from "../../workbench/core/trainer.js"
import { KERNELS_WASM_BASE64 } from "../../workbench/io/train/kernels-wasm.js"
import { SparseModel } from "../../workbench/io/train/sparse.js"
import { jsKernels, kernelsModule, type RowTables, WasmArena } from "../../workbench/io/train/wasm-kernels.js"
import { initWeights, mulberry32 } from "../../workbench/io/train/weights.js"

interface Alloc {
  f32(n: number): Float32Array
  f64(n: number): Float64Array
  i32(n: number): Int32Array
}
const plain: Alloc = {
  f32: (n) => new Float32Array(n),
  f64: (n) => new Float64Array(n),
  i32: (n) => new Int32Array(n)
}

/** Random tables and a random batch of row-grouped entries (the same for the same seed). */
function batch(a: Alloc, D: number, seed: number): RowTables & { out: Float64Array; g: Float64Array } {
  const r = mulberry32(seed),
    V = 512,
    nRows = 150,
    nEntries = 600,
    slots = 40
  const emb = a.f32(V * D),
    m = a.f32(V * D),
    v = a.f32(V * D)
  for (let i = 0; i < V * D; i++) {
    emb[i] = r() - 0.5
    m[i] = (r() - 0.5) * 0.01
    v[i] = r() * 1e-4
  }
  const rows = a.i32(nRows),
    rowStart = a.i32(nRows + 1),
    eSlot = a.i32(nEntries),
    eW = a.f64(nEntries),
    tg = a.f64(slots * D)
  for (let k = 0; k < nRows; k++) rows[k] = 3 * k + Math.floor(r() * 3)
  for (let k = 0; k <= nRows; k++) rowStart[k] = Math.round((k * nEntries) / nRows)
  for (let e = 0; e < nEntries; e++) {
    eSlot[e] = Math.floor(r() * slots) * D
    eW[e] = r() / 50
  }
  for (let i = 0; i < tg.length; i++) tg[i] = (r() - 0.5) * 1e-2
  return { D, emb, m, v, rows, rowStart, eSlot, eW, tg, out: a.f64(slots * D), g: a.f64(D) }
}

/** Index of the first element that differs bit for bit, −1: none. */
const firstDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  if (a.length !== b.length) return -2
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i
  return -1
}

describe("wasm row kernels", () => {
  it("are available in this Node (WebAssembly SIMD and shared memory)", () => {
    expect(kernelsModule()).not.toBeNull()
  })

  it.each([64, 7])("D = %i: pool, Adam and SGD match the JavaScript kernels bit for bit", (D) => {
    const arena = WasmArena.create(1 << 20)!
    const J = batch(plain, D, 11),
      W = batch(arena, D, 11)
    for (let t = 1; t <= 3; t++) {
      J.out.fill(0)
      W.out.fill(0)
      // rows split into two ranges, as the threads split them
      for (const [k0, k1] of [
        [0, 70],
        [70, 150]
      ] as const) {
        jsKernels.pool(J, J.out, k0, k1)
        arena.kernels.pool(W, W.out, k0, k1)
        const a = 0.01 / (1 - 0.9 ** t),
          s = 1 / Math.sqrt(1 - 0.999 ** t)
        jsKernels.adam(J, J.g, k0, k1, a, s)
        arena.kernels.adam(W, W.g, k0, k1, a, s)
        jsKernels.sgd(J, J.g, k0, k1, 0.5)
        arena.kernels.sgd(W, W.g, k0, k1, 0.5)
      }
      expect(firstDiff(J.out, W.out)).toBe(-1)
      expect(firstDiff(J.emb, W.emb)).toBe(-1)
      expect(firstDiff(J.m, W.m)).toBe(-1)
      expect(firstDiff(J.v, W.v)).toBe(-1)
    }
    // the kernels did change the tables (a test of a no-op would pass too)
    expect(firstDiff(J.emb, batch(plain, D, 11).emb)).toBeGreaterThanOrEqual(0)
    expect(J.out.some((x) => x !== 0)).toBe(true)
  })

  it("a bag model trains to the same weights with either kernel set, threaded or not", () => {
    const cfg: ModelConfig = {
      format: "wb-reward-model",
      version: 1,
      input: "bag",
      bucketsLog2: 12,
      dim: 16,
      hidden: 8,
      features: null
    }
    const pairs = randomPairs(300, 2 ** cfg.bucketsLog2, 5)
    const run = (simd: boolean, threads: number, kind: "adam" | "sgd") => {
      const m = new SparseModel(cfg, initWeights(cfg, 3), { kind, lr: 0.05 }, threads, simd)
      const losses: number[] = []
      for (let s = 0; s < 6; s++) {
        const idx = Int32Array.from({ length: 256 }, (_, i) => (s * 256 + i) % 300)
        losses.push(m.pairLoss(pairs, idx, true).loss)
        m.step(kind === "adam" ? 0.05 : 20)
      }
      const out = { losses, emb: m.w.emb.slice(), w1: m.w.w1.slice() }
      m.close()
      return out
    }
    for (const kind of ["adam", "sgd"] as const) {
      const js = run(false, 1, kind),
        wasm = run(true, 1, kind)
      expect(wasm.losses).toEqual(js.losses)
      expect(firstDiff(js.emb, wasm.emb)).toBe(-1)
      expect(firstDiff(js.w1, wasm.w1)).toBe(-1)
      expect(js.losses.at(-1)!).toBeLessThan(js.losses[0]!)
      // two threads: the same kernels per row; only the pooled partial sums add in another order
      const threaded = run(true, 2, kind),
        jsThreaded = run(false, 2, kind)
      expect(firstDiff(threaded.emb, jsThreaded.emb)).toBe(-1)
      expect(threaded.losses).toEqual(jsThreaded.losses)
    }
  })

  it("kernels-wasm.ts holds what kernels.wat compiles to (regenerate: node scripts/wasm-kernels.mjs)", async () => {
    const wabt = await wabtInit()
    const src = readFileSync(new URL("../../workbench/io/train/kernels.wat", import.meta.url), "utf8")
    const mod = wabt.parseWat("kernels.wat", src, { simd: true, threads: true })
    const bytes = Buffer.from(mod.toBinary({}).buffer)
    mod.destroy()
    expect(bytes.toString("base64")).toBe(KERNELS_WASM_BASE64)
  })
})

/** n pairs of random bags (20–60 ids a text), the chosen text with a few ids from a "good" range. */
function randomPairs(n: number, V: number, seed: number): PairSet {
  const rng = mulberry32(seed),
    offsets = [0],
    ids: number[] = []
  for (let t = 0; t < 3 * n; t++) {
    const len = 20 + Math.floor(rng() * 40)
    for (let i = 0; i < len; i++) ids.push(Math.floor(rng() * (V - 50)))
    if (t % 3 === 1) for (let i = 0; i < 4; i++) ids.push(V - 50 + Math.floor(rng() * 50))
    offsets.push(ids.length)
  }
  const idx = (k: number) => Int32Array.from({ length: n }, (_, p) => 3 * p + k)
  return {
    texts: { count: 3 * n, offsets: Int32Array.from(offsets), ids: Int32Array.from(ids) },
    prompt: idx(0),
    chosen: idx(1),
    rejected: idx(2),
    smoothing: new Float32Array(n),
    margin: new Float32Array(n),
    weight: new Float32Array(n).fill(1),
    tie: new Uint8Array(n)
  }
}
