/**
 * The sparse trainer's inner loops, unrolled by 4 (as the guide's lib/sparse.ts): V8 does not
 * vectorise, and four independent adds (four accumulators in a dot product) keep the pipeline full.
 * Each takes one element type per argument so V8 keeps them monomorphic and inlines them.
 */
import type { DenseKernels, RowTables } from "./wasm-kernels.js"

/** y[yo ..+n] += a · x[xo ..+n] (float64 += float32). */
export function addScaled(y: Float64Array, yo: number, a: number, x: Float32Array, xo: number, n: number): void {
  let k = 0
  for (; k + 3 < n; k += 4) {
    y[yo + k]! += a * x[xo + k]!
    y[yo + k + 1]! += a * x[xo + k + 1]!
    y[yo + k + 2]! += a * x[xo + k + 2]!
    y[yo + k + 3]! += a * x[xo + k + 3]!
  }
  for (; k < n; k++) y[yo + k]! += a * x[xo + k]!
}

/** y[yo ..+n] += a · x[xo ..+n] (float32 += float64). */
export function addScaled32(y: Float32Array, yo: number, a: number, x: Float64Array, xo: number, n: number): void {
  let k = 0
  for (; k + 3 < n; k += 4) {
    y[yo + k]! += a * x[xo + k]!
    y[yo + k + 1]! += a * x[xo + k + 1]!
    y[yo + k + 2]! += a * x[xo + k + 2]!
    y[yo + k + 3]! += a * x[xo + k + 3]!
  }
  for (; k < n; k++) y[yo + k]! += a * x[xo + k]!
}

/** y[0 ..n] += a · x[xo ..+n] (float64 += float64). */
export function addScaled64(y: Float64Array, a: number, x: Float64Array, xo: number, n: number): void {
  let k = 0
  for (; k + 3 < n; k += 4) {
    y[k]! += a * x[xo + k]!
    y[k + 1]! += a * x[xo + k + 1]!
    y[k + 2]! += a * x[xo + k + 2]!
    y[k + 3]! += a * x[xo + k + 3]!
  }
  for (; k < n; k++) y[k]! += a * x[xo + k]!
}

/** One row r of W1 (H wide) against dL/dpre = d: g[r ..] += x·d, and returns W1[r ..]·d. */
export function rowGrad(g: Float32Array, w: Float32Array, r: number, x: number, d: Float64Array, H: number): number {
  let a0 = 0,
    a1 = 0,
    a2 = 0,
    a3 = 0,
    j = 0
  for (; j + 3 < H; j += 4) {
    const d0 = d[j]!,
      d1 = d[j + 1]!,
      d2 = d[j + 2]!,
      d3 = d[j + 3]!
    g[r + j]! += x * d0
    g[r + j + 1]! += x * d1
    g[r + j + 2]! += x * d2
    g[r + j + 3]! += x * d3
    a0 += w[r + j]! * d0
    a1 += w[r + j + 1]! * d1
    a2 += w[r + j + 2]! * d2
    a3 += w[r + j + 3]! * d3
  }
  for (; j < H; j++) {
    g[r + j]! += x * d[j]!
    a0 += w[r + j]! * d[j]!
  }
  return a0 + a1 + (a2 + a3)
}

/** Adam on p[po ..+n] with gradient g[go ..+n]; a = lr / (1 − β1ᵗ), s = 1 / √(1 − β2ᵗ). */
export function adam(
  p: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  po: number,
  go: number,
  n: number,
  a: number,
  s: number
): void {
  for (let i = 0; i < n; i++) {
    const gi = g[go + i]!,
      pi = po + i
    const mi = (m[pi] = 0.9 * m[pi]! + 0.1 * gi)
    const vi = (v[pi] = 0.999 * v[pi]! + 0.001 * gi * gi)
    p[pi]! -= (a * mi) / (Math.sqrt(vi) * s + 1e-7)
  }
}

/** Adam on p[po ..+n] with a float64 gradient g[0 ..n] (the row-ordered embedding update). */
export function adam64(
  p: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float64Array,
  po: number,
  n: number,
  a: number,
  s: number
): void {
  for (let i = 0; i < n; i++) {
    // float32 like the slot path, so both give the same moments
    const gi = Math.fround(g[i]!),
      pi = po + i
    const mi = (m[pi] = 0.9 * m[pi]! + 0.1 * gi)
    const vi = (v[pi] = 0.999 * v[pi]! + 0.001 * gi * gi)
    p[pi]! -= (a * mi) / (Math.sqrt(vi) * s + 1e-7)
  }
}

/*
 * The row-ordered passes in plain JavaScript: the fallback of the wasm kernels (kernels.wat), with
 * the same operations in the same order, so both give bit-identical results (a test holds them to it).
 */

/** out[eSlot[e] ..+D] += eW[e] · emb[rows[k]·D ..] over the entries of rows k0 .. k1. */
export function poolRowsJs(T: RowTables, out: Float64Array, k0: number, k1: number): void {
  const D = T.D,
    E = T.emb,
    rows = T.rows,
    start = T.rowStart,
    eSlot = T.eSlot,
    eW = T.eW
  for (let k = k0; k < k1; k++) {
    const r = rows[k]! * D,
      to = start[k + 1]!
    for (let e = start[k]!; e < to; e++) addScaled(out, eSlot[e]!, eW[e]!, E, r, D)
  }
}

/** g[0 ..D) = Σ over row k's entries of eW[e] · tg[eSlot[e] ..]. */
export function rowGradientJs(T: RowTables, g: Float64Array, k: number): void {
  const D = T.D,
    tg = T.tg,
    eSlot = T.eSlot,
    eW = T.eW,
    to = T.rowStart[k + 1]!
  g.fill(0, 0, D)
  for (let e = T.rowStart[k]!; e < to; e++) addScaled64(g, eW[e]!, tg, eSlot[e]!, D)
}

/** Lazy Adam on rows k0 .. k1, each with its summed gradient (g: scratch of D). */
export function adamRowsJs(T: RowTables, g: Float64Array, k0: number, k1: number, a: number, s: number): void {
  for (let k = k0; k < k1; k++) {
    rowGradientJs(T, g, k)
    adam64(T.emb, T.m, T.v, g, T.rows[k]! * T.D, T.D, a, s)
  }
}

/** SGD on rows k0 .. k1, each with its summed gradient (g: scratch of D). */
export function sgdRowsJs(T: RowTables, g: Float64Array, k0: number, k1: number, lr: number): void {
  const D = T.D,
    E = T.emb
  for (let k = k0; k < k1; k++) {
    rowGradientJs(T, g, k)
    const r = T.rows[k]! * D
    for (let j = 0; j < D; j++) E[r + j]! -= lr * g[j]!
  }
}

/*
 * The reward model's dense layers per pair (sparse.ts), W1 [2D, H]: the fallback of the wasm kernels
 * (kernels.wat: promptPre, respScore, respBackward, rowGrads), bit-identical to them.
 */

// methods of an object typed by DenseKernels: the parameter types are the interface's (wasm-kernels.ts)
export const denseJs: DenseKernels = {
  /** out = b1 + W1[0:D]ᵀ x[xo ..]: the prompt half of layer 1, shared by the prompt's responses. */
  promptPre(w, x, xo, out, D, H) {
    const w1 = w.w1
    for (let j = 0; j < H; j++) out[j] = w.b1[j]!
    for (let k = 0; k < D; k++) addScaled(out, 0, x[xo + k]!, w1, k * H, H)
  },

  /** pre = pp + W1[D:2D]ᵀ x[xo ..], h = relu(pre); returns the score b2 + w2ᵀh. */
  respScore(w, x, xo, pp, pre, h, D, H) {
    const w1 = w.w1,
      w2 = w.w2
    for (let j = 0; j < H; j++) pre[j] = pp[j]!
    for (let k = 0; k < D; k++) addScaled(pre, 0, x[xo + k]!, w1, (D + k) * H, H)
    let s = w.b2[0]!
    for (let j = 0; j < H; j++) {
      const a = pre[j]! > 0 ? pre[j]! : 0
      h[j] = a
      s += a * w2[j]!
    }
    return s
  },

  /** dL/ds = ds through one response: dense grads of its half, dL/dpre into dh and added to dhSum, dL/d(vector) added to out[oo ..]. */
  respBackward(ds, w, g, x, xo, pre, h, dh, dhSum, out, oo, D, H) {
    const w2 = w.w2
    g.b2[0]! += ds
    for (let j = 0; j < H; j++) {
      g.w2[j]! += ds * h[j]!
      const d = pre[j]! > 0 ? ds * w2[j]! : 0
      dh[j] = d
      g.b1[j]! += d
      dhSum[j]! += d
    }
    for (let k = 0; k < D; k++) out[oo + k]! += rowGrad(g.w1, w.w1, (D + k) * H, x[xo + k]!, dh, H)
  },

  /** The prompt half of the backward from dL/dpre = d: W1[0:D] grads, dL/d(prompt vector) added to out[oo ..]. */
  promptBackward(w, g, x, xo, d, out, oo, D, H) {
    for (let k = 0; k < D; k++) out[oo + k]! += rowGrad(g.w1, w.w1, k * H, x[xo + k]!, d, H)
  }
}
