/**
 * The sparse trainer's inner loops, unrolled by 4 (as the guide's lib/sparse.ts): V8 does not
 * vectorise, and four independent adds (four accumulators in a dot product) keep the pipeline full.
 * Each takes one element type per argument so V8 keeps them monomorphic and inlines them.
 */

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
