/**
 * The sparse trainer's WebAssembly SIMD row kernels (kernels.wat) against their JavaScript twins
 * (kernels.ts): bit-identical pooled sums, Adam moments and weights on random tables, for a dimension
 * that fills the SIMD lanes (64) and one that leaves a tail (7); a whole model trained with either
 * kernel set (and with worker threads running the wasm kernels) gives the same losses and weights
 * bit for bit; the per-pair dense layers (wasm promptPre, respScore, respBackward, rowGrads) match
 * their JavaScript twins bit for bit for hidden sizes that fill the lanes and ones that leave tails,
 * ReLU at 0, −0 and NaN included; and the committed bytes (kernels-wasm.ts) are what kernels.wat compiles to today.
 */
import { describe, expect, it } from "vitest"
import type { ListSet, PairSet } from "../../workbench/core/trainer.js"
import { KERNELS_WASM_BASE64 } from "../../workbench/io/train/kernels-wasm.js"
import { denseJs } from "../../workbench/io/train/kernels.js"
import { SparseModel } from "../../workbench/io/train/sparse.js"
import {
  type DenseKernels,
  jsKernels,
  kernelsModule,
  type RowTables,
  WasmArena
} from "../../workbench/io/train/wasm-kernels.js"
import { initWeights, mulberry32, type Weights } from "../../workbench/io/train/weights.js"
import { pairsOfBags } from "../support/train.js"
import { bagConfig } from "./train-helpers.js"
import { compiledWat } from "../support/wat.js"

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

  it.each([
    [64, 64],
    [7, 13],
    [5, 3]
  ])("D = %i, H = %i: the dense layers match the JavaScript bit for bit", (D, H) => {
    const arena = WasmArena.create(1 << 20)!
    const J = dense(plain, D, H, 21),
      W = dense(arena, D, H, 21)
    const run = (k: DenseKernels, S: ReturnType<typeof dense>) => {
      const scores: number[] = []
      // 6 pairs over 4 slots (po, co, ro at slot offsets), gradients into tg as sparse.ts's pairLoss
      for (let i = 0; i < 6; i++) {
        const po = (i % 2) * D,
          co = 2 * D,
          ro = ((i % 3) + 1) * D
        k.promptPre(S.w, S.tv, po, S.pp, D, H)
        const sc = k.respScore(S.w, S.tv, co, S.pp, S.pre0, S.h0, D, H),
          sr = k.respScore(S.w, S.tv, ro, S.pp, S.pre1, S.h1, D, H)
        scores.push(sc, sr)
        const ds = (sc - sr) * 0.37 - 0.1 * i
        S.dhSum.fill(0)
        k.respBackward(ds, S.w, S.g, S.tv, co, S.pre0, S.h0, S.dh, S.dhSum, S.tg, co, D, H)
        k.respBackward(-ds, S.w, S.g, S.tv, ro, S.pre1, S.h1, S.dh, S.dhSum, S.tg, ro, D, H)
        k.promptBackward(S.w, S.g, S.tv, po, S.dhSum, S.tg, po, D, H)
      }
      // ReLU's edge: pre (and so h, and the backward's mask) at 0, −0, NaN, ±Infinity
      const edge = [0, -0, NaN, Infinity, -Infinity, 1e-300, -1e-300]
      for (let j = 0; j < H; j++) S.pp[j] = edge[j % edge.length]!
      S.tv.fill(0, 0, D)
      scores.push(k.respScore(S.w, S.tv, 0, S.pp, S.pre0, S.h0, D, H))
      for (let j = 0; j < H; j++) S.pre1[j] = edge[(j + 3) % edge.length]!
      k.respBackward(0.25, S.w, S.g, S.tv, D, S.pre1, S.h1, S.dh, S.dhSum, S.tg, D, D, H)
      return scores
    }
    const sj = run(denseJs, J),
      sw = run(arena.dense, W)
    expect(firstDiff(sj, sw)).toBe(-1)
    for (const key of ["w1", "b1", "w2", "b2"] as const) expect([key, firstDiff(J.g[key], W.g[key])]).toEqual([key, -1])
    for (const key of ["tg", "pp", "pre0", "h0", "pre1", "h1", "dh", "dhSum"] as const)
      expect([key, firstDiff(J[key], W[key])]).toEqual([key, -1])
    // the kernels did work: gradients moved and the edge pre gave +0 (not −0 or NaN) through ReLU
    expect(firstDiff(J.g.w1, dense(plain, D, H, 21).g.w1)).toBeGreaterThanOrEqual(0)
    expect(J.tg.some((x) => x !== 0)).toBe(true)
    for (let j = 0; j < H; j++) if (j % 7 < 3) expect(Object.is(W.h0[j], 0)).toBe(true)
  })

  it("a model says which kernels it runs: SIMD by default, JavaScript when asked or with WB_SPARSE_SIMD=0", () => {
    const c = bagConfig(10, 8, 4)
    const kernelsOf = (simd: boolean) => {
      const m = new SparseModel(c, initWeights(c, 1), { kind: "adam", lr: 0.01 }, 1, simd)
      m.close()
      return m.kernels
    }
    expect(kernelsOf(true)).toBe("wasm-simd")
    expect(kernelsOf(false)).toBe("js")
    process.env["WB_SPARSE_SIMD"] = "0"
    try {
      expect(kernelsOf(true)).toBe("js")
    } finally {
      delete process.env["WB_SPARSE_SIMD"]
    }
  })

  it("a bag model trains to the same weights with either kernel set, threaded or not", () => {
    const cfg = bagConfig(12, 16, 8)
    const pairs = randomPairs(300, 2 ** cfg.bucketsLog2, 5)
    const run = (simd: boolean, threads: number, kind: "adam" | "sgd", c = cfg) => {
      const m = new SparseModel(c, initWeights(c, 3), { kind, lr: 0.05 }, threads, simd)
      const losses: number[] = []
      for (let s = 0; s < 6; s++) {
        const idx = Int32Array.from({ length: 256 }, (_, i) => (s * 256 + i) % 300)
        losses.push(m.pairLoss(pairs, idx, true).loss)
        m.step(kind === "adam" ? 0.05 : 20)
      }
      // listwise steps (Plackett–Luce, the same dense kernels) and scoring on the trained model
      for (let s = 0; s < 3; s++) {
        losses.push(
          m.listLoss(
            lists(pairs),
            Int32Array.from({ length: 64 }, (_, i) => s * 64 + i),
            true
          ).loss
        )
        m.step(kind === "adam" ? 0.05 : 20)
      }
      const { chosen } = m.scorePairs(pairs)
      const out = { losses, emb: m.w.emb.slice(), dense: denseOf(m.w), chosen }
      m.close()
      return out
    }
    for (const kind of ["adam", "sgd"] as const) {
      const js = run(false, 1, kind),
        wasm = run(true, 1, kind)
      expect(wasm.losses).toEqual(js.losses)
      expect(firstDiff(js.emb, wasm.emb)).toBe(-1)
      expect(firstDiff(js.dense, wasm.dense)).toBe(-1)
      expect(firstDiff(js.chosen, wasm.chosen)).toBe(-1)
      expect(js.losses[5]!).toBeLessThan(js.losses[0]!)
      // a hidden size with SIMD tails (H = 11, D = 6)
      const odd = { ...cfg, dim: 6, hidden: 11 },
        oddJs = run(false, 1, kind, odd),
        oddWasm = run(true, 1, kind, odd)
      expect(oddWasm.losses).toEqual(oddJs.losses)
      expect(firstDiff(oddJs.dense, oddWasm.dense)).toBe(-1)
      expect(firstDiff(oddJs.emb, oddWasm.emb)).toBe(-1)
      // two threads: the same kernels per row; only the pooled partial sums add in another order
      const threaded = run(true, 2, kind),
        jsThreaded = run(false, 2, kind)
      expect(firstDiff(threaded.emb, jsThreaded.emb)).toBe(-1)
      expect(firstDiff(threaded.dense, jsThreaded.dense)).toBe(-1)
      expect(threaded.losses).toEqual(jsThreaded.losses)
    }
  })

  it("kernels-wasm.ts holds what kernels.wat compiles to (regenerate: node scripts/wasm-kernels.mjs)", async () => {
    expect(await compiledWat(new URL("../../workbench/io/train/kernels.wat", import.meta.url))).toBe(
      KERNELS_WASM_BASE64
    )
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
  return pairsOfBags(n, offsets, ids)
}

/** The dense weights end to end (w1, b1, w2, b2) for one bit-for-bit comparison. */
const denseOf = (w: Weights) => [...w.w1, ...w.b1, ...w.w2, ...w.b2]

/** Lists over the pairs' texts: prompt p, then its chosen, its rejected and the next pair's chosen. */
function lists(pairs: PairSet): ListSet {
  const n = pairs.prompt.length
  const members = new Int32Array(3 * n)
  for (let l = 0; l < n; l++) members.set([pairs.chosen[l]!, pairs.rejected[l]!, pairs.chosen[(l + 1) % n]!], 3 * l)
  return {
    texts: pairs.texts,
    prompt: pairs.prompt,
    starts: Int32Array.from({ length: n + 1 }, (_, l) => 3 * l),
    members
  }
}

/** Random dense weights, gradients (non-zero: the kernels accumulate), 4 slots of vectors and scratch. */
function dense(a: Alloc, D: number, H: number, seed: number) {
  const r = mulberry32(seed)
  const f32 = (n: number, s: number) => {
    const x = a.f32(n)
    for (let i = 0; i < n; i++) x[i] = (r() - 0.5) * s
    return x
  }
  const f64 = (n: number, s: number) => {
    const x = a.f64(n)
    for (let i = 0; i < n; i++) x[i] = (r() - 0.5) * s
    return x
  }
  const w: Weights = { emb: a.f32(0), w1: f32(2 * D * H, 0.6), b1: f32(H, 0.2), w2: f32(H, 1), b2: f32(1, 0.2) }
  const g: Weights = { emb: a.f32(0), w1: f32(2 * D * H, 1e-3), b1: f32(H, 1e-3), w2: f32(H, 1e-3), b2: f32(1, 1e-3) }
  return {
    w,
    g,
    tv: f64(4 * D, 2),
    tg: f64(4 * D, 1e-2),
    pp: a.f64(H),
    pre0: a.f64(H),
    h0: a.f64(H),
    pre1: a.f64(H),
    h1: a.f64(H),
    dh: a.f64(H),
    dhSum: a.f64(H)
  }
}
