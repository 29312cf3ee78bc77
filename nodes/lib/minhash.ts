/**
 * Near-duplicate search with MinHash + LSH, all in typed arrays: no O(n^2) loop anywhere.
 *
 * 1. `sketchBatch` (minhash-kernel.js) turns each text into `bands` band hashes (each a hash of `rows`
 *    MinHash values of its word shingles) and a bottom-k sample of its distinct shingle hashes. The
 *    bands x rows MinHash values come from one-permutation hashing with densification: each agrees
 *    between two texts with probability equal to their Jaccard similarity, like a classic
 *    permutation's minimum, at a fraction of the cost (`method: "classic"` keeps the textbook way).
 * 2. For each band, the documents are radix-sorted by band hash; a run of equal hashes is an LSH bucket.
 * 3. Candidates from a bucket are verified on the shingle samples: the Jaccard similarity is exact
 *    when both texts have at most `setCap` distinct shingles, and a bottom-k estimate above that.
 *
 * When to use: `nearClusters` for dedupe (union-find over verified pairs), `crossMatches` for
 * decontamination (which documents of A match some document of B), `nearPairs` to list every verified
 * pair (benches and small inputs; its output can be quadratic in a bucket).
 *
 * Gotchas: texts without a word have no shingles and never match anything. Shingles are lower-cased
 * words (runs of letters and digits), so punctuation and case never matter here.
 */
import { sketchBatch, type SketchBatch, type SketchOptions } from "./minhash-kernel.js"

export type { SketchBatch, SketchOptions }

/** The smallest samples kept per text: exact Jaccard up to this many distinct shingles. */
export const DEFAULT_SET_CAP = 256

/** Probability that two texts with Jaccard similarity `s` share at least one of `bands` band hashes. */
export const candidateProbability = (s: number, bands: number, rows: number): number =>
  1 - Math.pow(1 - Math.pow(s, rows), bands)

/**
 * LSH bands and rows for `numPerm` permutations. Unless given, rows is the largest value that still
 * makes a pair at exactly `threshold` a candidate with probability >= `recall` (0.99), and bands uses
 * the permutations left: most rows = fewest false candidates, while candidates are verified anyway.
 */
export function lshShape(
  threshold: number,
  numPerm: number,
  given: { readonly bands?: number | undefined; readonly rows?: number | undefined } = {},
  recall = 0.99
): { readonly bands: number; readonly rows: number } {
  if (given.bands !== undefined && given.rows !== undefined) return { bands: given.bands, rows: given.rows }
  if (given.bands !== undefined) return { bands: given.bands, rows: Math.max(1, Math.floor(numPerm / given.bands)) }
  if (given.rows !== undefined) return { bands: Math.max(1, Math.floor(numPerm / given.rows)), rows: given.rows }
  let best = { bands: numPerm, rows: 1 }
  for (let rows = 1; rows <= numPerm; rows++) {
    const bands = Math.floor(numPerm / rows)
    if (candidateProbability(threshold, bands, rows) >= recall) best = { bands, rows }
  }
  return best
}

/** Sketch texts on this thread (see minhash-pool.ts for worker threads). */
export const sketchTexts = (texts: ReadonlyArray<string | null | undefined>, options: SketchOptions): SketchBatch =>
  sketchBatch(texts, options)

/** Put sketched batches back together; `at[k][i]` is the document index of item i of batch k. */
export function assembleSketches(
  n: number,
  bands: number,
  parts: ReadonlyArray<{ readonly at: ArrayLike<number>; readonly batch: SketchBatch }>
): SketchBatch {
  const bandHashes = new Uint32Array(n * bands),
    sizes = new Int32Array(n),
    lens = new Int32Array(n)
  // a batch whose documents are consecutive (a scan in order) is copied in one go
  const runStart = (at: ArrayLike<number>) => {
    for (let i = 1; i < at.length; i++) if (at[i] !== at[0]! + i) return -1
    return at.length === 0 ? -1 : at[0]!
  }
  const starts = parts.map((p) => runStart(p.at))
  parts.forEach(({ at, batch }, k) => {
    const from = starts[k]!
    if (from >= 0) {
      bandHashes.set(batch.bandHashes, from * bands)
      sizes.set(batch.sizes, from)
      for (let i = 0; i < batch.n; i++) lens[from + i] = batch.offsets[i + 1]! - batch.offsets[i]!
      return
    }
    for (let i = 0; i < batch.n; i++) {
      const d = at[i]!
      bandHashes.set(batch.bandHashes.subarray(i * bands, (i + 1) * bands), d * bands)
      sizes[d] = batch.sizes[i]!
      lens[d] = batch.offsets[i + 1]! - batch.offsets[i]!
    }
  })
  const offsets = new Int32Array(n + 1)
  for (let d = 0; d < n; d++) offsets[d + 1] = offsets[d]! + lens[d]!
  const sets = new Uint32Array(offsets[n]!)
  parts.forEach(({ at, batch }, k) => {
    const from = starts[k]!
    if (from >= 0) sets.set(batch.sets, offsets[from]!)
    else
      for (let i = 0; i < batch.n; i++)
        sets.set(batch.sets.subarray(batch.offsets[i]!, batch.offsets[i + 1]!), offsets[at[i]!]!)
  })
  return { n, bands, bandHashes, offsets, sizes, sets }
}

/**
 * Jaccard similarity of text i of `x` and text j of `y`: exact when neither sample was cut, otherwise
 * the bottom-k estimate (shared hashes among the union's hashes below the smaller cut-off).
 */
export function jaccard(x: SketchBatch, i: number, y: SketchBatch, j: number): number {
  const sx = x.sizes[i]!,
    sy = y.sizes[j]!
  if (sx === 0 || sy === 0) return 0
  let p = x.offsets[i]!,
    q = y.offsets[j]!
  const pe = x.offsets[i + 1]!,
    qe = y.offsets[j + 1]!
  const xs = x.sets,
    ys = y.sets
  const limit = Math.min(sx > pe - p ? xs[pe - 1]! : 0xffffffff, sy > qe - q ? ys[qe - 1]! : 0xffffffff)
  let shared = 0,
    union = 0
  while (p < pe && q < qe) {
    const u = xs[p]!,
      v = ys[q]!
    if (u > limit && v > limit) break
    union++
    if (u === v) {
      shared++
      p++
      q++
    } else if (u < v) p++
    else q++
  }
  for (; p < pe && xs[p]! <= limit; p++) union++
  for (; q < qe && ys[q]! <= limit; q++) union++
  return union === 0 ? 0 : shared / union
}

/** Whether two texts reach `threshold`; rejects on set sizes first (J <= min/max size). */
export function similar(x: SketchBatch, i: number, y: SketchBatch, j: number, threshold: number): boolean {
  const sx = x.sizes[i]!,
    sy = y.sizes[j]!
  if (sx === 0 || sy === 0 || Math.min(sx, sy) < threshold * Math.max(sx, sy)) return false
  return jaccard(x, i, y, j) >= threshold
}

/**
 * For each band, call `onBucket(members, from, to, band)` for every run of >= 2 documents with equal
 * band hashes. `docs` lists the documents taking part; `key(d, band)` reads a document's band hash.
 * Buckets come from a stable LSD radix sort (two 16-bit passes), so members are in `docs` order.
 */
export function forEachBucket(
  docs: Int32Array,
  bands: number,
  key: (doc: number, band: number) => number,
  onBucket: (members: Int32Array, from: number, to: number, band: number) => void
): void {
  const n = docs.length
  if (n < 2) return
  const keys = new Uint32Array(n),
    keys2 = new Uint32Array(n)
  const order = new Int32Array(n),
    order2 = new Int32Array(n)
  const count = new Int32Array(65537)
  for (let band = 0; band < bands; band++) {
    for (let i = 0; i < n; i++) keys[i] = key(docs[i]!, band)
    // pass 1: low 16 bits, docs -> order2
    count.fill(0)
    for (let i = 0; i < n; i++) count[(keys[i]! & 0xffff) + 1]!++
    for (let c = 0; c < 65536; c++) count[c + 1]! += count[c]!
    for (let i = 0; i < n; i++) {
      const pos = count[keys[i]! & 0xffff]!++
      order2[pos] = docs[i]!
      keys2[pos] = keys[i]!
    }
    // pass 2: high 16 bits, order2 -> order
    count.fill(0)
    for (let i = 0; i < n; i++) count[(keys2[i]! >>> 16) + 1]!++
    for (let c = 0; c < 65536; c++) count[c + 1]! += count[c]!
    for (let i = 0; i < n; i++) {
      const pos = count[keys2[i]! >>> 16]!++
      order[pos] = order2[i]!
      keys[pos] = keys2[i]!
    }
    for (let from = 0; from < n; ) {
      let to = from + 1
      while (to < n && keys[to] === keys[from]) to++
      if (to - from > 1) onBucket(order, from, to, band)
      from = to
    }
  }
}

/** Documents that take part: active (when a mask is given) and with at least one shingle. */
export function participants(sk: SketchBatch, active?: ArrayLike<number>): Int32Array {
  const out: Array<number> = []
  for (let d = 0; d < sk.n; d++) if (sk.sizes[d]! > 0 && (active === undefined || active[d])) out.push(d)
  return Int32Array.from(out)
}

const bandKey = (sk: SketchBatch) => (d: number, band: number) => sk.bandHashes[d * sk.bands + band]!

/** Union-find with path halving; the root of a set is its smallest member. */
export class UnionFind {
  readonly parent: Int32Array
  constructor(n: number) {
    this.parent = new Int32Array(n)
    for (let i = 0; i < n; i++) this.parent[i] = i
  }
  find(i: number): number {
    const p = this.parent
    while (p[i] !== i) {
      p[i] = p[p[i]!]!
      i = p[i]!
    }
    return i
  }
  union(a: number, b: number): void {
    const ra = this.find(a),
      rb = this.find(b)
    if (ra < rb) this.parent[rb] = ra
    else if (rb < ra) this.parent[ra] = rb
  }
}

export interface NearOptions {
  readonly threshold: number
  /** Only these documents (1 = take part); default all. */
  readonly active?: ArrayLike<number>
  /** Per bucket, compare a document with at most this many other clusters (bounds bad buckets). */
  readonly maxCompare?: number
}

/**
 * Cluster near-duplicates: connected components of verified candidate pairs. Returns, per document,
 * the smallest document index of its cluster, or -1 when it does not take part (inactive, no words).
 * In a bucket each document is compared with one representative per cluster already in the bucket,
 * so a bucket of k copies costs k - 1 comparisons, not k^2 / 2.
 */
export function nearClusters(sk: SketchBatch, options: NearOptions): Int32Array {
  const docs = participants(sk, options.active)
  const uf = new UnionFind(sk.n)
  const maxCompare = options.maxCompare ?? 16
  const reps = new Int32Array(maxCompare)
  forEachBucket(docs, sk.bands, bandKey(sk), (members, from, to) => {
    let nReps = 0
    for (let k = from; k < to; k++) {
      const d = members[k]!
      let joined = false
      for (let r = 0; r < nReps; r++) {
        const rep = reps[r]!
        if (uf.find(rep) === uf.find(d)) {
          joined = true
          continue
        }
        if (similar(sk, d, sk, rep, options.threshold)) {
          uf.union(d, rep)
          joined = true
        }
      }
      if (!joined && nReps < maxCompare) reps[nReps++] = d
    }
  })
  const out = new Int32Array(sk.n).fill(-1)
  for (const d of docs) out[d] = uf.find(d)
  return out
}

/** Every verified pair (i < j) with Jaccard >= threshold among LSH candidates. */
export function nearPairs(sk: SketchBatch, options: NearOptions): Array<readonly [number, number]> {
  const docs = participants(sk, options.active)
  const seen = new Set<number>()
  const out: Array<readonly [number, number]> = []
  forEachBucket(docs, sk.bands, bandKey(sk), (members, from, to) => {
    for (let x = from; x < to; x++) {
      for (let y = x + 1; y < to; y++) {
        const i = Math.min(members[x]!, members[y]!),
          j = Math.max(members[x]!, members[y]!)
        const id = i * sk.n + j
        if (seen.has(id)) continue
        seen.add(id)
        if (similar(sk, i, sk, j, options.threshold)) out.push([i, j])
      }
    }
  })
  return out
}

/**
 * Which documents of `docs` match (Jaccard >= threshold) at least one document of `against`; both
 * must be sketched with the same options. 1 = matched.
 */
export function crossMatches(docs: SketchBatch, against: SketchBatch, options: NearOptions): Uint8Array {
  const matched = new Uint8Array(docs.n)
  const n = docs.n,
    maxCompare = options.maxCompare ?? 16
  const all = [...participants(docs, options.active), ...Array.from(participants(against), (d) => d + n)]
  const key = (d: number, band: number) =>
    d < n ? docs.bandHashes[d * docs.bands + band]! : against.bandHashes[(d - n) * against.bands + band]!
  const evals = new Int32Array(maxCompare)
  forEachBucket(Int32Array.from(all), docs.bands, key, (members, from, to) => {
    let nEvals = 0
    for (let k = from; k < to && nEvals < maxCompare; k++) if (members[k]! >= n) evals[nEvals++] = members[k]! - n
    if (nEvals === 0) return
    for (let k = from; k < to; k++) {
      const d = members[k]!
      if (d >= n || matched[d]) continue
      for (let e = 0; e < nEvals; e++) {
        if (similar(docs, d, against, evals[e]!, options.threshold)) {
          matched[d] = 1
          break
        }
      }
    }
  })
  return matched
}
