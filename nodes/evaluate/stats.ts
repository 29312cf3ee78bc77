/**
 * The evaluate family's statistics core (pure, no I/O): a seeded random source, percentile bootstrap
 * confidence intervals, and grouping of items into slices. Seeds are per slice (the node's seed and
 * the slice's name), so adding a slice or a row elsewhere never moves another slice's interval.
 */

/** A seeded uniform [0, 1) source (mulberry32): the same seed gives the same draws on any machine. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A 32-bit seed from the node's seed and a text (FNV-1a), so each slice draws its own stream. */
export function seedFor(seed: number, text: string): number {
  let h = (2166136261 ^ seed) >>> 0
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0
  return h
}

/** The q-quantile of sorted values with linear interpolation (numpy's default). */
export function quantile(sorted: ReadonlyArray<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN
  const h = (sorted.length - 1) * q
  const lo = Math.floor(h)
  const hi = Math.min(lo + 1, sorted.length - 1)
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!)
}

export interface Interval {
  readonly lo: number | null
  readonly hi: number | null
}

/**
 * The 95% percentile bootstrap interval of `stat` over `n` items: `resamples` times, draw n item
 * indices with replacement (uniform, from `random`) and compute the statistic on them. Statistics that
 * come out NaN (a resample with nothing to measure) are left out; no interval when none remain or
 * resamples is 0.
 */
export function bootstrap(
  n: number,
  resamples: number,
  random: () => number,
  stat: (indices: Int32Array) => number
): Interval {
  if (n === 0 || resamples === 0) return { lo: null, hi: null }
  const values: Array<number> = []
  const idx = new Int32Array(n)
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) idx[i] = Math.floor(random() * n)
    const v = stat(idx)
    if (!Number.isNaN(v)) values.push(v)
  }
  if (values.length === 0) return { lo: null, hi: null }
  values.sort((a, b) => a - b)
  return { lo: quantile(values, 0.025), hi: quantile(values, 0.975) }
}

/** The mean of `values` at `indices` (all of them when absent). */
export function meanAt(values: ArrayLike<number>, indices?: ArrayLike<number>): number {
  const n = indices === undefined ? values.length : indices.length
  let s = 0
  for (let i = 0; i < n; i++) s += values[indices === undefined ? i : indices[i]!]!
  return s / n
}

/** The sample standard deviation (n − 1 in the denominator), NaN below two values. */
export function sampleSd(values: ReadonlyArray<number>): number {
  const n = values.length
  if (n < 2) return Number.NaN
  const m = meanAt(values)
  let s = 0
  for (const v of values) s += (v - m) ** 2
  return Math.sqrt(s / (n - 1))
}

/** One slice of items: the dimension it was cut along ('(all)' for every item), its value, its items. */
export interface Slice {
  readonly by: string
  readonly slice: string
  readonly items: ReadonlyArray<number>
}

export const ALL = "(all)"

/**
 * The slices of `n` items: every item as slice '(all)', then for each dimension of `by` one slice per
 * value (`keys[d][i]`: item i's value along dimension d), values in sorted order.
 */
export function slicesOf(
  n: number,
  by: ReadonlyArray<string>,
  keys: ReadonlyArray<ReadonlyArray<string>>
): Array<Slice> {
  const out: Array<Slice> = [{ by: ALL, slice: ALL, items: Array.from({ length: n }, (_, i) => i) }]
  by.forEach((dimension, d) => {
    const groups = new Map<string, Array<number>>()
    for (let i = 0; i < n; i++) {
      const k = keys[d]![i]!
      const g = groups.get(k)
      if (g === undefined) groups.set(k, [i])
      else g.push(i)
    }
    for (const k of [...groups.keys()].sort()) out.push({ by: dimension, slice: k, items: groups.get(k)! })
  })
  return out
}
