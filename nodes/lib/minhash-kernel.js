// MinHash sketching kernel: word shingles -> LSH band hashes + a bottom-k shingle set per text.
// Signatures are one-permutation MinHash with densification by default (O(shingles + K) per text, ~2x
// faster end to end on 500-character texts than the classic K-permutation MinHash, same recall in
// bench/minhash-quality.ts); `method: "classic"` keeps the textbook a*x+b permutations.
// Plain JavaScript on purpose: worker threads load it without a TypeScript loader (a `.ts` worker entry
// fails under tsx and under vitest on Node 20). Types: minhash-kernel.d.ts. Callers: minhash.ts,
// minhash-pool.ts and minhash-worker.js. Everything here is deterministic for a given seed.
//
// Speed notes (bench/minhash-quality.ts; ~1.5x the throughput of the previous kernel on 500-char texts,
// ~1.6x on 165-char ones): texts are read as UTF-16 code units from a Uint16Array, not with charCodeAt
// (which re-dispatches on one-byte / two-byte string layout at every character): a string is copied in
// with one native Buffer#ucs2Write (a widening memcpy, lone surrogates kept), and the worker pool sends a
// whole batch as one such array (packTexts; transferred, never structured-cloned as strings). Words are
// hashed in the same pass, through one lower-case table lookup per unit and without branches (no strings,
// no regex); shingles are sorted and de-duplicated by a counting sort on their top bits (they are uniform
// hashes) plus one insertion pass, not TypedArray#sort; for most texts the OPH bins are those buckets.

import { Buffer } from "node:buffer"

const MASK_SIGN = 0x80000000 | 0
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** splitmix32: a seeded stream of 32-bit words for the permutation constants. */
function splitmix32(seed) {
  let s = seed | 0
  return () => {
    s = (s + 0x9e3779b9) | 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad)
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97)
    return (z ^ (z >>> 15)) >>> 0
  }
}

/** murmur3's finaliser: spreads every input bit over the whole word. */
function fmix(h) {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** Permutation i is x -> a[i] * x + b[i] (mod 2^32), a[i] odd. Padded to a multiple of 8 (unrolled loop). */
export function permutations(count, seed) {
  const padded = Math.ceil(count / 8) * 8
  const next = splitmix32(seed ^ 0x5bd1e995)
  const a = new Uint32Array(padded),
    b = new Uint32Array(padded)
  for (let i = 0; i < padded; i++) {
    a[i] = next() | 1
    b[i] = next()
  }
  return { a, b }
}

// A word is a maximal run of ASCII letters/digits or non-ASCII letters; punctuation and spaces split.
function isWordChar(c) {
  if (c < 128) return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90)
  return !(
    c === 0xa0 ||
    c === 0x85 ||
    (c >= 0x2000 && c <= 0x206f) ||
    c === 0x3000 ||
    c === 0xfeff ||
    (c >= 0x3001 && c <= 0x3003)
  )
}

/**
 * UTF-16 unit -> its lower-case unit inside a word, or 0 between words (one table lookup per char).
 * Lower case is String#toLowerCase of the unit alone (surrogates stay as they are). Built with one
 * toLowerCase per 1,024 units, each unit after a space (so no unit is in a context that changes its
 * lower case, like a final sigma); a block whose lower case changes length (U+0130 becomes two units)
 * is redone unit by unit. A few ms, against ~15-30 ms for 65,536 separate toLowerCase calls.
 */
const FOLD = (() => {
  const t = new Uint16Array(65536)
  const lowerOne = (c) => {
    const lower = c >= 0xd800 && c <= 0xdfff ? "" : String.fromCharCode(c).toLowerCase()
    return lower.length === 1 ? lower.charCodeAt(0) : c
  }
  const CHUNK = 1024,
    units = new Uint16Array(2 * CHUNK)
  for (let from = 0; from < 65536; from += CHUNK) {
    for (let k = 0; k < CHUNK; k++) {
      const c = from + k
      units[2 * k] = 0x20
      units[2 * k + 1] = c >= 0xd800 && c <= 0xdfff ? 0x20 : c
    }
    const block = LITTLE_ENDIAN ? Buffer.from(units.buffer).toString("ucs2") : String.fromCharCode.apply(null, units)
    const lower = block.toLowerCase()
    const whole = lower.length === 2 * CHUNK
    for (let c = Math.max(from, 1); c < from + CHUNK; c++) {
      if (!isWordChar(c)) continue
      t[c] = c >= 0xd800 && c <= 0xdfff ? c : whole ? lower.charCodeAt(2 * (c - from) + 1) : lowerOne(c)
    }
  }
  return t
})()

function grow(arr, atLeast = 0) {
  const next = new arr.constructor(Math.max(arr.length * 2, atLeast))
  next.set(arr)
  return next
}

let wordScratch = new Uint32Array(1 << 12)
let shingleScratch = new Uint32Array(1 << 12)

const FNV_BASIS = 0x811c9dc5 | 0

/** Hash each word of units[from, to) (lower-cased) into wordScratch; returns the word count. */
function hashWords(units, from, to) {
  // a text has at most (length + 1) / 2 words; one more slot for the store below
  const most = ((to - from + 1) >>> 1) + 1
  if (wordScratch.length < most) wordScratch = new Uint32Array(Math.max(most, wordScratch.length * 2))
  const words = wordScratch,
    fold = FOLD
  // FNV-1a per word, without a branch on word / separator (those mispredict at every word boundary):
  // each step stores the running hash at words[n] and moves n on only when a word has just ended
  let n = 0,
    h = FNV_BASIS,
    inWord = 0
  for (let i = from; i < to; i++) {
    const c = fold[units[i]]
    const sep = (c - 1) >> 31 // -1 between words (c === 0), else 0
    words[n] = h
    n += inWord & sep
    inWord = ~sep & 1
    h = (Math.imul(h ^ c, 0x01000193) & ~sep) | (FNV_BASIS & sep)
  }
  if (inWord === 1) words[n++] = h
  return n
}

/**
 * Hash the `k`-word shingles of units[from, to) into shingleScratch; returns their count (duplicates
 * included). A text with fewer than k words (but at least one) is one shingle; one with no word has none.
 */
function shingleUnits(units, from, to, k) {
  const nw = hashWords(units, from, to)
  if (nw === 0) return 0
  const m = nw < k ? 1 : nw - k + 1
  if (shingleScratch.length < m) shingleScratch = new Uint32Array(Math.max(m, shingleScratch.length * 2))
  const w = wordScratch,
    x = shingleScratch,
    span = Math.min(k, nw)
  if (span === 3) {
    for (let j = 0; j < m; j++)
      x[j] = fmix(Math.imul(Math.imul(w[j], 0x9e3779b1) ^ w[j + 1], 0x9e3779b1) ^ w[j + 2] ^ 3)
    return m
  }
  for (let j = 0; j < m; j++) {
    let h = w[j]
    for (let t = 1; t < span; t++) h = Math.imul(h, 0x9e3779b1) ^ w[j + t]
    x[j] = fmix(h ^ span)
  }
  return m
}

// One string at a time goes through this scratch (Buffer#ucs2Write writes UTF-16 little-endian: the
// Uint16Array order on little-endian machines, LITTLE_ENDIAN; charCodeAt otherwise).
let textUnits = new Uint16Array(1 << 12)
let textBytes = Buffer.from(textUnits.buffer)

/** Copy `text` into textUnits[0, text.length) and return the array. */
function unitsOf(text) {
  const len = text.length
  if (textUnits.length < len) {
    textUnits = new Uint16Array(Math.max(len, textUnits.length * 2))
    textBytes = Buffer.from(textUnits.buffer)
  }
  if (LITTLE_ENDIAN) textBytes.ucs2Write(text, 0)
  else for (let i = 0; i < len; i++) textUnits[i] = text.charCodeAt(i)
  return textUnits
}

/**
 * Hash the `k`-word shingles of `text` into an internal scratch array; returns their count (duplicates
 * included). A text with fewer than k words (but at least one) is one shingle; a text with no word has none.
 */
export function shingleHashes(text, k) {
  return shingleUnits(unitsOf(text), 0, text.length, k)
}

/** The distinct shingle hashes of `text`, sorted ascending (for exact Jaccard in tests and benches). */
export function shingleSet(text, k) {
  const m = shingleHashes(text, k)
  const out = new Uint32Array(m)
  const u = sortDistinctInto(shingleScratch, m, out, 0)
  return out.slice(0, u)
}

/**
 * Sort x[0, m) ascending without repeats into out[at, at + u); returns u (out needs room for m values).
 * The values are hashes (uniform), so a counting sort on their top bits (about two values per bucket)
 * leaves only values of the same bucket out of order, which one insertion-sort pass fixes; a last pass
 * drops repeats. O(m) in practice (TypedArray#sort is ~2x slower here and allocates).
 */
let bucketEnd = new Int32Array(1 << 10)
function sortDistinctInto(x, m, out, at) {
  if (m <= 1) {
    if (m === 1) out[at] = x[0]
    return m
  }
  let bits = 1
  while (2 << bits < m && bits < 20) bits++
  const nb = 1 << bits,
    shift = 32 - bits
  if (bucketEnd.length < nb) {
    bucketEnd = new Int32Array(nb)
  }
  const end = bucketEnd
  end.fill(0, 0, nb)
  for (let j = 0; j < m; j++) end[x[j] >>> shift]++
  let s = at
  for (let b = 0; b < nb; b++) {
    const c = end[b]
    end[b] = s
    s += c
  }
  for (let j = 0; j < m; j++) {
    const v = x[j],
      b = v >>> shift,
      e = end[b]
    out[e] = v
    end[b] = e + 1
  }
  return insertionDistinct(out, at, at + m)
}

/**
 * Sort out[at, last) (nearly sorted) by insertion, dropping repeats on the way; returns how many values
 * are left (in out[at, at + u)). out[at, u) is sorted and distinct at every step; most values are above
 * all of it (one compare). Repeats interleaved in one bucket ("a b a b ..." has two shingles, over and
 * over) could make insertion quadratic: past 8 moves per value it hands over to TypedArray#sort.
 */
function insertionDistinct(out, at, last) {
  let u = at + 1,
    budget = 8 * (last - at) + 64
  for (let j = at + 1; j < last; j++) {
    const v = out[j],
      top = out[u - 1]
    if (v > top) {
      out[u++] = v
      continue
    }
    if (v === top) continue
    let q = u - 1 // out[q] > v: find the first such q
    while (q > at && out[q - 1] > v) q--
    if (q > at && out[q - 1] === v) continue
    for (let r = u; r > q; r--) out[r] = out[r - 1]
    out[q] = v
    u++
    budget -= u - q
    if (budget < 0) return sortedDistinct(out, at, u, j + 1, last)
  }
  return u - at
}

/** Fallback of insertionDistinct: out[at, u) sorted and distinct, out[j, last) not yet placed. */
function sortedDistinct(out, at, u, j, last) {
  out.copyWithin(u, j, last)
  const end = u + last - j
  out.subarray(at, end).sort()
  let w = at + 1
  for (let k = at + 1; k < end; k++) {
    const v = out[k]
    out[w] = v
    w += v !== out[w - 1] ? 1 : 0
  }
  return w - at
}

/**
 * MinHash signature of the m values x[from, from + m) into sig[0, a.length).
 * Hot loop, inlined on purpose: eight permutations per pass over the shingles (1.2-2x faster than one
 * at a time), minima kept in signed space so V8 stays on 32-bit integer compares (see setup).
 */
function signature(x, from, m, a, b, sig) {
  const to = from + m
  for (let i = 0; i < a.length; i += 8) {
    const a0 = a[i],
      a1 = a[i + 1],
      a2 = a[i + 2],
      a3 = a[i + 3]
    const a4 = a[i + 4],
      a5 = a[i + 5],
      a6 = a[i + 6],
      a7 = a[i + 7]
    const b0 = b[i],
      b1 = b[i + 1],
      b2 = b[i + 2],
      b3 = b[i + 3]
    const b4 = b[i + 4],
      b5 = b[i + 5],
      b6 = b[i + 6],
      b7 = b[i + 7]
    let m0 = 0x7fffffff,
      m1 = m0,
      m2 = m0,
      m3 = m0,
      m4 = m0,
      m5 = m0,
      m6 = m0,
      m7 = m0
    for (let j = from; j < to; j++) {
      const v = x[j] | 0
      const v0 = (Math.imul(a0, v) + b0) | 0,
        v1 = (Math.imul(a1, v) + b1) | 0
      const v2 = (Math.imul(a2, v) + b2) | 0,
        v3 = (Math.imul(a3, v) + b3) | 0
      const v4 = (Math.imul(a4, v) + b4) | 0,
        v5 = (Math.imul(a5, v) + b5) | 0
      const v6 = (Math.imul(a6, v) + b6) | 0,
        v7 = (Math.imul(a7, v) + b7) | 0
      if (v0 < m0) m0 = v0
      if (v1 < m1) m1 = v1
      if (v2 < m2) m2 = v2
      if (v3 < m3) m3 = v3
      if (v4 < m4) m4 = v4
      if (v5 < m5) m5 = v5
      if (v6 < m6) m6 = v6
      if (v7 < m7) m7 = v7
    }
    sig[i] = m0
    sig[i + 1] = m1
    sig[i + 2] = m2
    sig[i + 3] = m3
    sig[i + 4] = m4
    sig[i + 5] = m5
    sig[i + 6] = m6
    sig[i + 7] = m7
  }
}

/**
 * One-permutation MinHash (Li, Owen & Zhang 2012) with densification: each distinct shingle x goes to
 * one of K bins by its high bits and competes there with a second hash; an empty bin then copies the
 * nearest non-empty bin along a fixed random cycle of all bins, from its own start on the cycle and in
 * its own direction (Shrivastava & Li 2014, "improved densification", on a random order of the bins;
 * all fixed by the seed, the same for every text). Every bin agrees between two texts with probability
 * = their Jaccard similarity, like a classic MinHash value (for any fixed probe order: the first bin of
 * it that the union fills decides), at O(m + K) instead of O(m * K) for texts with many shingles.
 *
 * Two ways in, same signature: ophSorted (K / OPH_SORT_MIN <= m <= OPH_SORT_MAX * K shingles: the K bins
 * double as the buckets of the shingle sort, as a bin is floor(x * K / 2^32), monotone in x) and ophBins
 * over already sorted distinct shingles (other texts). Both mark the filled bins in `filled` and give
 * their count f; densify then fills the empty bins.
 */
const binOfScratch = { a: new Uint16Array(1 << 10) }

/** The OPH bins of the m values x[from, from + m) into sig[0, K); returns f, the bins filled. */
function ophBins(x, from, m, K, salt, sig, filled) {
  filled.fill(0)
  sig.fill(0x7fffffff, 0, K)
  let f = 0
  const to = from + m
  for (let j = from; j < to; j++) {
    const h = x[j]
    const bin = ((h >>> 16) * K + (((h & 0xffff) * K) >>> 16)) >>> 16
    const v = (fmix(h ^ salt) ^ MASK_SIGN) | 0
    f += filled[bin] ^ 1
    filled[bin] = 1
    if (v < sig[bin]) sig[bin] = v
  }
  return f
}

/**
 * Texts with K / OPH_SORT_MIN to OPH_SORT_MAX * K shingles sort them in the OPH bins: more would crowd
 * the bins; with fewer, a pass over all K bins costs more than a sort of its own.
 */
const OPH_SORT_MAX = 2,
  OPH_SORT_MIN = 5
let ophFilled = 0

/**
 * ophBins and sortDistinctInto together, for x[0, m) with m <= OPH_SORT_MAX * K: returns u, the
 * distinct shingles, sorted into out[at, at + u); the filled-bin count is left in ophFilled.
 * One pass bins each shingle (count per bin, OPH minimum per bin); then a counting sort by bin puts
 * them in order but for values of one bin (~1 per bin), which one insertion-sort pass fixes (few
 * inversions), and a last pass drops repeats. ~30% faster than inserting into each bin as it fills.
 */
function ophSorted(x, m, K, salt, sig, filled, out, at) {
  if (bucketEnd.length < K) {
    bucketEnd = new Int32Array(K)
  }
  if (binOfScratch.a.length < m) binOfScratch.a = new Uint16Array(Math.max(m, binOfScratch.a.length * 2))
  const end = bucketEnd,
    binOf = binOfScratch.a
  end.fill(0, 0, K)
  sig.fill(0x7fffffff, 0, K)
  let f = 0
  for (let j = 0; j < m; j++) {
    const h = x[j]
    const bin = ((h >>> 16) * K + (((h & 0xffff) * K) >>> 16)) >>> 16
    binOf[j] = bin
    const v = (fmix(h ^ salt) ^ MASK_SIGN) | 0
    const c = end[bin]
    f += (c - 1) >>> 31 // c === 0: the bin was empty
    end[bin] = c + 1
    if (v < sig[bin]) sig[bin] = v
  }
  ophFilled = f
  // counting sort by bin: end[b] becomes where bin b's next value goes
  let s = at
  for (let b = 0; b < K; b++) {
    const c = end[b]
    filled[b] = -c >>> 31 // c > 0
    end[b] = s
    s += c
  }
  for (let j = 0; j < m; j++) {
    const b = binOf[j],
      e = end[b]
    out[e] = x[j]
    end[b] = e + 1
  }
  // only values of the same bin can be out of order now
  return insertionDistinct(out, at, at + m)
}

/**
 * Fill the empty bins of sig[0, K), f of them being filled: bin i copies the first filled bin on the
 * cycle `cycle` (a random order of the bins, written out three times over so that no walk wraps), from
 * position start[i], forwards (up[i] = 1) or backwards. The walk for each empty bin takes K / f steps
 * (one mispredicted loop exit each); when more than half the bins are empty, two branch-free passes
 * over the cycle find the next and the previous filled position of every position instead (~3 K
 * steps whatever f is). Same result either way. It replaced optimal densification (Shrivastava 2017:
 * a random order of all bins per bin, ~(K - f) K / f steps, ~500 for 28 shingles: ~40% of the cost of
 * a 165-char text): 1.35x faster on those, 1.1x on the 500-char mix; recall in
 * bench/minhash-quality.ts the same within ±0.0002 at thresholds 0.5-0.9 (same-cluster recall 0.9987
 * instead of 0.9991 at 0.8).
 */
function densify(K, f, rot, sig, filled) {
  if (f === K) return
  const { cycle, start, up, next, prev } = rot
  if (2 * f > K) {
    for (let i = 0; i < K; i++) {
      if (filled[i] === 1) continue
      let p = start[i] + K
      if (up[i] === 1) while (filled[cycle[p]] === 0) p++
      else while (filled[cycle[p]] === 0) p--
      sig[i] = sig[cycle[p]]
    }
    return
  }
  let first = 0,
    last = K - 1
  while (filled[cycle[first]] === 0) first++
  while (filled[cycle[last]] === 0) last--
  // next[p]: first filled position >= p (< p + K); prev[p]: last filled position <= p + K (> p)
  let q = first + K
  for (let p = K - 1; p >= 0; p--) {
    const fl = filled[cycle[p]]
    q = (p & -fl) | (q & (fl - 1)) // fl ? p : q
    next[p] = q
  }
  q = last
  for (let p = K; p < 2 * K; p++) {
    const fl = filled[cycle[p]]
    q = (p & -fl) | (q & (fl - 1))
    prev[p - K] = q
  }
  for (let i = 0; i < K; i++) {
    const p = up[i] === 1 ? next[start[i]] : prev[start[i]]
    sig[i] = filled[i] === 1 ? sig[i] : sig[cycle[p]]
  }
}

/** The densification cycle (a seeded random order of the bins, three times over), starts and directions. */
function densifyCycle(K, seed) {
  const next = splitmix32(seed ^ 0x2545f491)
  const cycle = new Uint16Array(3 * K),
    start = new Uint16Array(K),
    up = new Uint8Array(K)
  for (let j = 0; j < K; j++) cycle[j] = j
  for (let j = K - 1; j > 0; j--) {
    const r = next() % (j + 1),
      t = cycle[j]
    cycle[j] = cycle[r]
    cycle[r] = t
  }
  cycle.copyWithin(K, 0, K)
  cycle.copyWithin(2 * K, 0, K)
  for (let i = 0; i < K; i++) {
    start[i] = next() % K
    up[i] = next() & 1
  }
  return { cycle, start, up, next: new Int32Array(K), prev: new Int32Array(K) }
}

/** Band hash of rows [from, from + rows) of a signature. */
function bandHash(sig, from, rows, band) {
  let h = Math.imul(band + 1, 0x27d4eb2f)
  for (let q = 0; q < rows; q++) {
    let k = Math.imul(sig[from + q], 0xcc9e2d51)
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593)
    h ^= k
    h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0
  }
  return fmix(h ^ rows)
}

/** Per-options constants (permutations, densification orders), cached: a worker sees the same options for every batch. */
let cachedKey = "",
  cachedSetup = null
function setup(options) {
  const { bands, rows, seed } = options
  const method = options.method === "classic" ? "classic" : "oph"
  const key = `${bands}/${rows}/${seed}/${method}`
  if (key === cachedKey) return cachedSetup
  const K = bands * rows
  const { a, b } = permutations(K, seed)
  // signed copies; adding b ^ 2^31 instead of b flips the sign bit of a*x+b, so signed order == unsigned
  const as = new Int32Array(a),
    bs = new Int32Array(b.length)
  for (let i = 0; i < b.length; i++) bs[i] = b[i] ^ MASK_SIGN
  cachedSetup = {
    K,
    oph: method === "oph",
    as,
    bs,
    rot: method === "oph" ? densifyCycle(K, seed) : undefined,
    salt: splitmix32(seed ^ 0x68e31da4)() | 0
  }
  cachedKey = key
  return cachedSetup
}

/**
 * Sketch n texts: text i is units[ends[i - 1] (0 for i = 0), ends[i]) of `units` (UTF-16 code units; a
 * text of length 0 has no words, like a missing one), or, with units === null, texts[i] (copied in with
 * unitsOf; not a string: no words). Outputs go to `into` (see sketchPacked) when given.
 */
function sketchCore(n, units, ends, texts, options, into) {
  const { bands, shingle } = options
  const st = new SketchState(options, n, into)
  for (let i = 0; i < n; i++) {
    let m = 0
    if (units !== null) {
      const from = i === 0 ? 0 : ends[i - 1],
        to = ends[i]
      if (to > from) m = shingleUnits(units, from, to, shingle)
    } else {
      const text = texts[i]
      if (typeof text === "string" && text.length > 0) m = shingleUnits(unitsOf(text), 0, text.length, shingle)
    }
    if (m > 0) sketchShingles(st, i, m)
    else {
      // no words: band hashes (ignored by callers) 0, as `into` arrays may hold old values
      st.sizes[i] = 0
      st.bandHashes.fill(0, i * bands, (i + 1) * bands)
    }
    st.offsets[i + 1] = st.used
  }
  const sets = st.sets,
    used = st.used
  let out
  if (into !== undefined && into.sets.length >= used) {
    out = into.sets.subarray(0, used)
    out.set(sets.subarray(0, used))
  } else if (sets.length > SETS_SCRATCH_KEEP && sets.length <= used + (used >>> 2)) {
    // a big scratch that fits well: it becomes the result (no copy), and the scratch starts over
    out = sets.subarray(0, used)
    setsScratch = new Uint32Array(1 << 18)
  } else out = sets.slice(0, used)
  if (setsScratch.length > SETS_SCRATCH_KEEP) setsScratch = new Uint32Array(1 << 18)
  return { n, bands, bandHashes: st.bandHashes, offsets: st.offsets, sizes: st.sizes, sets: out }
}

/** Output arrays and per-options constants of one sketchCore call. */
class SketchState {
  constructor(options, n, into) {
    const { bands, rows, setCap } = options
    this.n = n
    const { K, oph, as, bs, rot, salt } = setup(options)
    this.bands = bands
    this.rows = rows
    this.setCap = setCap
    this.K = K
    this.oph = oph
    this.as = as
    this.bs = bs
    this.rot = rot
    this.salt = salt
    this.sig = new Int32Array(as.length)
    // a bin is empty until a shingle lands in it; bins filled by densification are copies, never sources
    this.filled = new Uint8Array(K)
    // outputs go to `into` when given (arrays that may hold old values: every entry is written)
    this.bandHashes = into === undefined ? new Uint32Array(n * bands) : into.bandHashes.subarray(0, n * bands)
    this.offsets = into === undefined ? new Int32Array(n + 1) : into.offsets.subarray(0, n + 1)
    this.offsets[0] = 0
    this.sizes = into === undefined ? new Int32Array(n) : into.sizes.subarray(0, n)
    // the shingle sets are written to a scratch kept between calls (no zeroed allocation, no regrowth
    // per batch), then copied out once at their final size
    this.sets = setsScratch
    this.used = 0
  }
}

/**
 * Sketch text i from its m shingle hashes in shingleScratch: signature, band hashes, and its sorted
 * distinct shingles appended to the sets.
 */
function sketchShingles(st, i, m) {
  const { K, sig, filled, bands, rows } = st
  let sets = st.sets
  const used = st.used
  // distinct shingles, sorted, straight into the output (the first setCap of them stay there)
  if (used + m > sets.length) {
    // room for all n texts at the mean so far (+10%): a big batch then grows its sets once or twice
    const projected = Math.ceil(((used + m) / (i + 1)) * st.n * 1.1)
    sets = st.sets = setsScratch = grow(sets, Math.max(used + m, projected))
  }
  let u
  if (!st.oph) {
    u = sortDistinctInto(shingleScratch, m, sets, used)
    signature(sets, used, u, st.as, st.bs, sig)
  } else if (m <= OPH_SORT_MAX * K && m * OPH_SORT_MIN >= K) {
    u = ophSorted(shingleScratch, m, K, st.salt, sig, filled, sets, used)
    densify(K, ophFilled, st.rot, sig, filled)
  } else {
    u = sortDistinctInto(shingleScratch, m, sets, used)
    densify(K, ophBins(sets, used, u, K, st.salt, sig, filled), st.rot, sig, filled)
  }
  const bandHashes = st.bandHashes
  for (let t = 0; t < bands; t++) bandHashes[i * bands + t] = bandHash(sig, t * rows, rows, t)
  st.sizes[i] = u
  st.used = used + (u < st.setCap ? u : st.setCap)
}

/** Sets scratch: kept while at most this many values (16 MB; a worker's batch needs ~1 MB). */
const SETS_SCRATCH_KEEP = 1 << 22
let setsScratch = new Uint32Array(1 << 18)

/**
 * Sketch a batch of texts. For text i: `bands` LSH band hashes at bandHashes[i * bands ...], and its
 * distinct shingle hashes, sorted, cut to the `setCap` smallest (a bottom-k sample), at
 * sets[offsets[i], offsets[i + 1]). `sizes[i]` is the full distinct-shingle count. A text without words
 * gets an empty set (and band hashes that callers must ignore).
 */
export function sketchBatch(texts, options) {
  return sketchCore(texts.length, null, null, texts, options)
}

/**
 * sketchBatch for texts packed as UTF-16 code units: text i is units[ends[i - 1] (0 for i = 0), ends[i]).
 * Same output as sketchBatch on the strings (a missing text packs as the empty string: same sketch).
 * `into` (optional): arrays to write the sketches to, { bandHashes, offsets, sizes, sets }, with room
 * for n * bands, n + 1 and n values (sets: if it is too small, the sets come in a new array); the
 * sketches are then subarrays of them (worker threads write to shared memory this way).
 */
export function sketchPacked(units, ends, options, into) {
  return sketchCore(ends.length, units, ends, null, options, into)
}

/** UTF-16 units that packTexts needs for `texts`. */
export function packedLength(texts) {
  let total = 0
  for (let i = 0; i < texts.length; i++) {
    const t = texts[i]
    if (typeof t === "string") total += t.length
  }
  return total
}

/**
 * Pack texts (strings; anything else counts as empty) into UTF-16 code units for sketchPacked: one
 * native copy per text into one array (shareable with, or transferable to, a worker thread, unlike
 * strings). Into `units` and `ends` when given (room for packedLength(texts) and texts.length values;
 * the result is then subarrays of them), else into new arrays.
 */
export function packTexts(texts, units, ends) {
  const n = texts.length,
    total = packedLength(texts)
  const u = units === undefined ? new Uint16Array(total) : units.subarray(0, total)
  const e = ends === undefined ? new Int32Array(n) : ends.subarray(0, n)
  if (LITTLE_ENDIAN) {
    const bytes = Buffer.from(u.buffer, u.byteOffset, 2 * total)
    for (let i = 0, p = 0; i < n; i++) {
      const t = texts[i]
      if (typeof t === "string" && t.length > 0) {
        bytes.ucs2Write(t, 2 * p)
        p += t.length
      }
      e[i] = p
    }
  } else {
    for (let i = 0, p = 0; i < n; i++) {
      const t = texts[i]
      if (typeof t === "string") for (let c = 0; c < t.length; c++) u[p++] = t.charCodeAt(c)
      e[i] = p
    }
  }
  return { units: u, ends: e }
}
