/**
 * Greedy near-duplicate matching over LSH bucket indexes, for rows made of several texts (a pair's
 * prompt and two responses): each field is sketched and bucketed on its own, and a row is compared
 * only with the rows already kept that share a bucket with it.
 *
 * Rows are visited best first (the caller's keep order). A row that `match`es `k` kept rows is removed,
 * naming the first kept row it matched as its twin; any other row is kept and joins its buckets. So
 * every removed row is directly similar to its twin (no chains of "A near B near C" as union-find
 * clusters give), and no two kept rows match (up to LSH recall and `cap`, with k = 1).
 *
 * When to use: `greedyMatch` when the rule for "near-duplicate" needs several texts per row; for
 * single texts `nearClusters` (minhash.ts) is enough.
 *
 * Gotchas:
 * - A row searches its `probes`: sets of its buckets that any match must share (the buckets of its
 *   prompt, of its response a, of its response b). Each probe alone finds a match with the LSH recall
 *   of one field (>= 0.99 at the threshold); searching several lifts it to the recall of any of them.
 *   But a probe whose buckets are large (a text that many rows share: one baseline answer in every
 *   pair of a prompt) would compare the row with each of those rows: such a probe is skipped when a
 *   cheaper one exists (its buckets hold more than SMALL_BUCKETS documents per band on average, and
 *   more than the cheapest probe's). Then the recall is that of the cheapest probe's field only.
 * - A bucket lists at most `cap` kept rows: a kept row missing from one bucket's list is still found
 *   through its other bands; this bounds the work in buckets of many dissimilar texts.
 */
import { forEachBucket, participants, type SketchBatch } from "./minhash.js"

/** Texts from..to-1 of a sketch batch, as a batch of their own (views of the same arrays, no copy). */
export function sliceSketches(sk: SketchBatch, from: number, to: number): SketchBatch {
  return {
    n: to - from,
    bands: sk.bands,
    bandHashes: sk.bandHashes.subarray(from * sk.bands, to * sk.bands),
    // offsets stay absolute positions in `sets`, so the slice reads the whole sets array
    offsets: sk.offsets.subarray(from, to + 1),
    sizes: sk.sizes.subarray(from, to),
    sets: sk.sets
  }
}

/** LSH buckets of documents 0..n-1, by band. */
export interface BucketIndex {
  readonly n: number
  readonly bands: number
  /** Bucket of document d in band b: ids[d * bands + b]; -1 when d is alone in that band (or has no shingle). */
  readonly ids: Int32Array
  /** Documents per bucket. */
  readonly sizes: Int32Array
  /** 1 for documents with at least one shingle (the others are in no bucket). */
  readonly words: Uint8Array
}

/** Index the LSH buckets of one or more sketch batches taken as one document space (batch 0 first). */
export function bucketIndex(batches: ReadonlyArray<SketchBatch>): BucketIndex {
  const bands = batches[0]!.bands
  const starts: Array<number> = []
  let n = 0
  for (const b of batches) {
    starts.push(n)
    n += b.n
  }
  const parts = batches.map((b) => participants(b))
  const docs = new Int32Array(parts.reduce((s, p) => s + p.length, 0))
  let at = 0
  parts.forEach((p, k) => {
    for (let i = 0; i < p.length; i++) docs[at++] = p[i]! + starts[k]!
  })
  // one array of band hashes for the whole space: the radix sort reads a key per document and band
  const hashes = batches.length === 1 ? batches[0]!.bandHashes : new Uint32Array(n * bands)
  if (batches.length > 1)
    batches.forEach((b, k) => hashes.set(b.bandHashes.subarray(0, b.n * bands), starts[k]! * bands))
  const key = (d: number, band: number) => hashes[d * bands + band]!
  const ids = new Int32Array(n * bands).fill(-1)
  const sizes: Array<number> = []
  forEachBucket(docs, bands, key, (members, from, to, band) => {
    const id = sizes.length
    sizes.push(to - from)
    for (let i = from; i < to; i++) ids[members[i]! * bands + band] = id
  })
  const words = new Uint8Array(n)
  for (let i = 0; i < docs.length; i++) words[docs[i]!] = 1
  return { n, bands, ids, sizes: Int32Array.from(sizes), words }
}

/** Where a row's documents are in an index: document `row + offset` for each offset. */
export interface MatchView {
  readonly index: BucketIndex
  readonly offsets: ReadonlyArray<number>
}

export interface GreedyOptions {
  /** Rows 0..rows-1; only those in `order` take part. */
  readonly rows: number
  /** The rows taking part, best first: a row is compared with the kept rows before it. */
  readonly order: ArrayLike<number>
  readonly views: ReadonlyArray<MatchView>
  /**
   * The buckets a row may search, as [view, offset]: each must be a necessary condition of `match`
   * (a match shares a bucket with document row + offset of that view, up to LSH recall).
   */
  readonly probes: ReadonlyArray<readonly [number, number]>
  /** Whether row `row` is a near-duplicate of kept row `kept` (verified on the texts). */
  readonly match: (row: number, kept: number) => boolean
  /** A row is removed once it matches this many kept rows (1: keep one row per group). */
  readonly k: number
  /** Kept rows listed per bucket at most. */
  readonly cap: number
}

export interface GreedyResult {
  /** Per row: the kept row it was removed as a near-duplicate of; -1 when kept or not taking part. */
  readonly twin: Int32Array
  /** Candidate pairs verified with `match`. */
  readonly compared: number
}

/** Kept rows per bucket, as linked lists in growable typed arrays (append at the tail: oldest first). */
class KeptLists {
  readonly head: Int32Array
  readonly tail: Int32Array
  readonly count: Int32Array
  row = new Int32Array(1024)
  next = new Int32Array(1024)
  used = 0
  constructor(buckets: number) {
    this.head = new Int32Array(buckets).fill(-1)
    this.tail = new Int32Array(buckets).fill(-1)
    this.count = new Int32Array(buckets)
  }
  add(bucket: number, row: number): void {
    if (this.used === this.row.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2)
        b.set(a)
        return b
      }
      this.row = grow(this.row)
      this.next = grow(this.next)
    }
    const node = this.used++
    this.row[node] = row
    this.next[node] = -1
    if (this.tail[bucket] === -1) this.head[bucket] = node
    else this.next[this.tail[bucket]!] = node
    this.tail[bucket] = node
    this.count[bucket]!++
  }
}

/** Documents per bucket, on average over the bands, below which a probe is searched even when another is cheaper. */
const SMALL_BUCKETS = 16

/** Documents in the buckets of document `doc` (itself counted once per band): the cost of searching it. */
function mass(index: BucketIndex, doc: number): number {
  let m = 0
  for (let b = 0; b < index.bands; b++) {
    const id = index.ids[doc * index.bands + b]!
    if (id >= 0) m += index.sizes[id]!
  }
  return m
}

/** Remove near-duplicate rows greedily, best first (see the module doc). */
export function greedyMatch(o: GreedyOptions): GreedyResult {
  const twin = new Int32Array(o.rows).fill(-1)
  const stamp = new Int32Array(o.rows).fill(-1)
  const lists = o.views.map((v) => new KeptLists(v.index.sizes.length))
  const masses = new Float64Array(o.probes.length)
  let compared = 0
  for (let q = 0; q < o.order.length; q++) {
    const row = o.order[q]!
    // the cheapest probe, and every other one whose buckets are small (see the module doc)
    let least = Infinity
    for (let p = 0; p < o.probes.length; p++) {
      const [v, offset] = o.probes[p]!
      const index = o.views[v]!.index
      // a text without a word is in no bucket: its probe finds nothing, so it must not pass for the cheapest
      masses[p] = index.words[row + offset] === 1 ? mass(index, row + offset) : Infinity
      least = Math.min(least, masses[p]!)
    }
    let found = 0,
      first = -1
    search: for (let p = 0; p < o.probes.length; p++) {
      const [v, offset] = o.probes[p]!
      const { index } = o.views[v]!,
        list = lists[v]!
      if (masses[p] === Infinity || (masses[p]! > least && masses[p]! > SMALL_BUCKETS * index.bands)) continue
      const doc = row + offset
      for (let b = 0; b < index.bands; b++) {
        const id = index.ids[doc * index.bands + b]!
        if (id < 0) continue
        for (let node = list.head[id]!; node >= 0; node = list.next[node]!) {
          const kept = list.row[node]!
          if (stamp[kept] === row) continue
          stamp[kept] = row
          compared++
          if (!o.match(row, kept)) continue
          if (first < 0) first = kept
          if (++found >= o.k) break search
        }
      }
    }
    if (found >= o.k) {
      twin[row] = first
      continue
    }
    for (let v = 0; v < o.views.length; v++) {
      const { index, offsets } = o.views[v]!,
        list = lists[v]!
      for (const offset of offsets) {
        const doc = row + offset
        for (let b = 0; b < index.bands; b++) {
          const id = index.ids[doc * index.bands + b]!
          if (id >= 0 && list.count[id]! < o.cap) list.add(id, row)
        }
      }
    }
  }
  return { twin, compared }
}
