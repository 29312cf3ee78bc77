// MinHash sketching kernel: word shingles -> LSH band hashes + a bottom-k shingle set per text.
// Signatures are one-permutation MinHash with optimal densification by default (O(shingles + K) per
// text, ~2x faster end to end on 500-character texts than the classic K-permutation MinHash, same
// recall in bench/minhash-quality.ts); `method: "classic"` keeps the textbook a*x+b permutations.
// Plain JavaScript on purpose: worker threads load it without a TypeScript loader (a `.ts` worker entry
// fails under tsx and under vitest on Node 20). Types: minhash-kernel.d.ts. Callers: minhash.ts and
// minhash-worker.js. Everything here is deterministic for a given seed.

const MASK_SIGN = 0x80000000 | 0

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
  const a = new Uint32Array(padded), b = new Uint32Array(padded)
  for (let i = 0; i < padded; i++) {
    a[i] = next() | 1
    b[i] = next()
  }
  return { a, b }
}

// A word is a maximal run of ASCII letters/digits or non-ASCII letters; punctuation and spaces split.
function isWordChar(c) {
  if (c < 128) return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90)
  return !(c === 0xa0 || c === 0x85 || (c >= 0x2000 && c <= 0x206f) || c === 0x3000 || c === 0xfeff ||
    (c >= 0x3001 && c <= 0x3003))
}

/** UTF-16 unit -> its lower-case unit inside a word, or 0 between words (one table lookup per char). */
const FOLD = (() => {
  const t = new Uint16Array(65536)
  for (let c = 1; c < 65536; c++) {
    if (!isWordChar(c)) continue
    const lower = c >= 0xd800 && c <= 0xdfff ? "" : String.fromCharCode(c).toLowerCase()
    t[c] = lower.length === 1 ? lower.charCodeAt(0) : c
  }
  return t
})()

let wordScratch = new Uint32Array(1 << 12)
let shingleScratch = new Uint32Array(1 << 12)

/** Hash each word of `text` (lower-cased) into wordScratch; returns the word count. */
function hashWords(text) {
  let n = 0, h = 0, inWord = false
  for (let i = 0; i < text.length; i++) {
    const c = FOLD[text.charCodeAt(i)]
    if (c !== 0) {
      if (!inWord) { h = 0x811c9dc5 | 0; inWord = true }
      h = Math.imul(h ^ c, 0x01000193)
    } else if (inWord) {
      if (n === wordScratch.length) wordScratch = grow(wordScratch)
      wordScratch[n++] = h
      inWord = false
    }
  }
  if (inWord) {
    if (n === wordScratch.length) wordScratch = grow(wordScratch)
    wordScratch[n++] = h
  }
  return n
}

function grow(arr) {
  const next = new Uint32Array(arr.length * 2)
  next.set(arr)
  return next
}

/**
 * Hash the `k`-word shingles of `text` into shingleScratch; returns their count (duplicates included).
 * A text with fewer than k words (but at least one) is one shingle; a text with no word has none.
 */
export function shingleHashes(text, k) {
  const nw = hashWords(text)
  if (nw === 0) return 0
  const m = nw < k ? 1 : nw - k + 1
  if (shingleScratch.length < m) shingleScratch = new Uint32Array(Math.max(m, shingleScratch.length * 2))
  const w = wordScratch, span = Math.min(k, nw)
  for (let j = 0; j < m; j++) {
    let h = w[j]
    for (let t = 1; t < span; t++) h = Math.imul(h, 0x9e3779b1) ^ w[j + t]
    shingleScratch[j] = fmix(h ^ span)
  }
  return m
}

/** The distinct shingle hashes of `text`, sorted ascending (for exact Jaccard in tests and benches). */
export function shingleSet(text, k) {
  const m = shingleHashes(text, k)
  const s = shingleScratch.slice(0, m).sort()
  let u = 0
  for (let j = 0; j < m; j++) if (j === 0 || s[j] !== s[u - 1]) s[u++] = s[j]
  return s.slice(0, u)
}

/**
 * MinHash signature of the m shingles in shingleScratch into sig[0, a.length).
 * Hot loop, inlined on purpose: eight permutations per pass over the shingles (1.2-2x faster than one
 * at a time), minima kept in signed space so V8 stays on 32-bit integer compares (see sketchBatch).
 */
function signature(m, a, b, sig) {
  const x = shingleScratch
  for (let i = 0; i < a.length; i += 8) {
    const a0 = a[i], a1 = a[i + 1], a2 = a[i + 2], a3 = a[i + 3]
    const a4 = a[i + 4], a5 = a[i + 5], a6 = a[i + 6], a7 = a[i + 7]
    const b0 = b[i], b1 = b[i + 1], b2 = b[i + 2], b3 = b[i + 3]
    const b4 = b[i + 4], b5 = b[i + 5], b6 = b[i + 6], b7 = b[i + 7]
    let m0 = 0x7fffffff, m1 = m0, m2 = m0, m3 = m0, m4 = m0, m5 = m0, m6 = m0, m7 = m0
    for (let j = 0; j < m; j++) {
      const v = x[j] | 0
      const v0 = (Math.imul(a0, v) + b0) | 0, v1 = (Math.imul(a1, v) + b1) | 0
      const v2 = (Math.imul(a2, v) + b2) | 0, v3 = (Math.imul(a3, v) + b3) | 0
      const v4 = (Math.imul(a4, v) + b4) | 0, v5 = (Math.imul(a5, v) + b5) | 0
      const v6 = (Math.imul(a6, v) + b6) | 0, v7 = (Math.imul(a7, v) + b7) | 0
      if (v0 < m0) m0 = v0
      if (v1 < m1) m1 = v1
      if (v2 < m2) m2 = v2
      if (v3 < m3) m3 = v3
      if (v4 < m4) m4 = v4
      if (v5 < m5) m5 = v5
      if (v6 < m6) m6 = v6
      if (v7 < m7) m7 = v7
    }
    sig[i] = m0; sig[i + 1] = m1; sig[i + 2] = m2; sig[i + 3] = m3
    sig[i + 4] = m4; sig[i + 5] = m5; sig[i + 6] = m6; sig[i + 7] = m7
  }
}

/**
 * One-permutation MinHash with optimal densification (Li, Owen & Zhang 2012; Shrivastava 2017): each
 * distinct shingle x goes to one of K bins by its high bits and competes there with a second hash; an
 * empty bin then copies the first non-empty bin in its own fixed random order of all bins (the same for
 * every text). Every bin agrees between two texts with probability = their Jaccard similarity, like a
 * classic MinHash value, at O(m + K) instead of O(m * K) for texts with many shingles.
 */
function signatureOph(m, K, dense, salt, sig, filled, sources) {
  const x = shingleScratch
  filled.fill(0)
  let f = 0
  for (let j = 0; j < m; j++) {
    const h = x[j]
    // bin = floor(h * K / 2^32) in integer arithmetic (h < 2^32, K < 2^16)
    const bin = (((h >>> 16) * K) + ((((h & 0xffff) * K) >>> 16))) >>> 16
    const v = (fmix(h ^ salt) ^ MASK_SIGN) | 0
    if (filled[bin] === 0) { filled[bin] = 1; sig[bin] = v; sources[f++] = bin } else if (v < sig[bin]) sig[bin] = v
  }
  if (f === K) return
  const { order, rank } = dense
  if (f * f < K) {
    // few sources: the one that comes first in bin i's order, by rank (O(f) per empty bin)
    for (let i = 0; i < K; i++) {
      if (filled[i] === 1) continue
      let best = sources[0], bestRank = rank[i * K + best]
      for (let k = 1; k < f; k++) {
        const r = rank[i * K + sources[k]]
        if (r < bestRank) { bestRank = r; best = sources[k] }
      }
      sig[i] = sig[best]
    }
  } else {
    // many sources: walk bin i's order to the first filled bin (K / f steps expected)
    for (let i = 0; i < K; i++) {
      if (filled[i] === 1) continue
      let t = i * K
      while (filled[order[t]] === 0) t++
      sig[i] = sig[order[t]]
    }
  }
}

/** Per bin, a seeded random order of all K bins (Fisher-Yates), and each bin's rank in it. */
function densifyOrders(K, seed) {
  const next = splitmix32(seed ^ 0x2545f491)
  const order = new Uint16Array(K * K), rank = new Uint16Array(K * K)
  for (let i = 0; i < K; i++) {
    const o = order.subarray(i * K, (i + 1) * K)
    for (let j = 0; j < K; j++) o[j] = j
    for (let j = K - 1; j > 0; j--) {
      const r = next() % (j + 1), t = o[j]
      o[j] = o[r]; o[r] = t
    }
    for (let j = 0; j < K; j++) rank[i * K + o[j]] = j
  }
  return { order, rank }
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

/**
 * Sketch a batch of texts. For text i: `bands` LSH band hashes at bandHashes[i * bands ...], and its
 * distinct shingle hashes, sorted, cut to the `setCap` smallest (a bottom-k sample), at
 * sets[offsets[i], offsets[i + 1]). `sizes[i]` is the full distinct-shingle count. A text without words
 * gets an empty set (and band hashes that callers must ignore).
 */
export function sketchBatch(texts, options) {
  const { bands, rows, shingle, seed, setCap } = options
  const K = bands * rows, oph = options.method !== "classic"
  const { a, b } = permutations(K, seed)
  // signed copies; adding b ^ 2^31 instead of b flips the sign bit of a*x+b, so signed order == unsigned
  const as = new Int32Array(a), bs = new Int32Array(b.length)
  for (let i = 0; i < b.length; i++) bs[i] = b[i] ^ MASK_SIGN
  const n = texts.length
  const sig = new Int32Array(a.length)
  const dense = oph ? densifyOrders(K, seed) : undefined, salt = splitmix32(seed ^ 0x68e31da4)() | 0
  // a bin is empty until a shingle lands in it; bins filled by densification are copies, never sources
  const filled = new Uint8Array(K), sources = new Int32Array(K)
  const bandHashes = new Uint32Array(n * bands)
  const offsets = new Int32Array(n + 1)
  const sizes = new Int32Array(n)
  let sets = new Uint32Array(Math.max(1024, n * 32))
  let used = 0
  for (let i = 0; i < n; i++) {
    const text = texts[i]
    const m = typeof text === "string" ? shingleHashes(text, shingle) : 0
    if (m > 0) {
      // distinct shingles first (sorted): the signature loop then runs over each shingle once
      const s = shingleScratch.subarray(0, m).sort()
      let u = 0
      for (let j = 0; j < m; j++) if (j === 0 || s[j] !== s[u - 1]) s[u++] = s[j]
      if (oph) signatureOph(u, K, dense, salt, sig, filled, sources)
      else signature(u, as, bs, sig)
      for (let t = 0; t < bands; t++) bandHashes[i * bands + t] = bandHash(sig, t * rows, rows, t)
      sizes[i] = u
      const keep = u < setCap ? u : setCap
      while (used + keep > sets.length) sets = grow(sets)
      sets.set(s.subarray(0, keep), used)
      used += keep
    }
    offsets[i + 1] = used
  }
  return { n, bands, bandHashes, offsets, sizes, sets: sets.slice(0, used) }
}
