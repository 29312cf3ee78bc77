/** MinHash + LSH: shingles, Jaccard on samples, band shapes, clustering recall, workers = inline. */
import { describe, expect, it } from "vitest"
import { packTexts, shingleSet, sketchPacked } from "../../nodes/lib/minhash-kernel.js"
import {
  candidateProbability,
  crossMatches,
  forEachBucket,
  jaccard,
  lshShape,
  nearClusters,
  nearPairs,
  sketchTexts,
  type SketchOptions
} from "../../nodes/lib/minhash.js"
import { SketchPool } from "../../nodes/lib/minhash-pool.js"

const opts = (over: Partial<SketchOptions> = {}): SketchOptions => ({
  bands: 21,
  rows: 6,
  shingle: 3,
  seed: 1,
  setCap: 256,
  ...over
})

/** Seeded text generator over a 2,000-word vocabulary. */
function textMaker(seed: number) {
  let s = seed
  const random = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32
  const word = () => `w${Math.floor(random() * 2000)}`
  return {
    random,
    text: (words: number) => Array.from({ length: words }, word).join(" "),
    /** Replace `edits` words at random positions. */
    edit: (text: string, edits: number) => {
      const w = text.split(" ")
      for (let e = 0; e < edits; e++) w[Math.floor(random() * w.length)] = word()
      return w.join(" ")
    }
  }
}

const exactJaccard = (a: string, b: string, k = 3) => {
  const A = new Set(shingleSet(a, k)),
    B = new Set(shingleSet(b, k))
  let shared = 0
  for (const x of A) if (B.has(x)) shared++
  return shared / (A.size + B.size - shared)
}

const sortedJaccard = (A: Uint32Array, B: Uint32Array) => {
  let p = 0,
    q = 0,
    shared = 0
  while (p < A.length && q < B.length) {
    if (A[p] === B[q]) {
      shared++
      p++
      q++
    } else if (A[p]! < B[q]!) p++
    else q++
  }
  return shared / (A.length + B.length - shared)
}

describe("shingles", () => {
  it("ignore case, punctuation and spacing", () => {
    expect(Array.from(shingleSet("Hello, World!  How are\nyou?", 3))).toEqual(
      Array.from(shingleSet("hello world how are you", 3))
    )
    expect(Array.from(shingleSet("hello world", 3))).not.toEqual(Array.from(shingleSet("world hello", 3)))
  })

  it("a text shorter than one shingle is one shingle; a text without words has none", () => {
    expect(shingleSet("two words", 3).length).toBe(1)
    expect(shingleSet("  ...  ", 3).length).toBe(0)
    expect(shingleSet("a b c d e", 3).length).toBe(3)
  })
})

describe("jaccard on shingle samples", () => {
  const g = textMaker(3)
  it("is exact while both texts have at most setCap shingles", () => {
    const texts = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? g.text(30 + i) : ""))
    for (let i = 1; i < texts.length; i += 2) texts[i] = g.edit(texts[i - 1]!, 1 + (i % 5))
    const sk = sketchTexts(texts, opts())
    for (let i = 0; i < texts.length; i += 2)
      expect(jaccard(sk, i, sk, i + 1)).toBeCloseTo(exactJaccard(texts[i]!, texts[i + 1]!), 12)
  })

  it("estimates from the bottom-k sample above setCap", () => {
    const a = g.text(2000),
      b = g.edit(a, 150)
    const sk = sketchTexts([a, b], opts({ setCap: 256 }))
    expect(sk.offsets[1]).toBe(256)
    expect(Math.abs(jaccard(sk, 0, sk, 1) - exactJaccard(a, b))).toBeLessThan(0.06)
  })
})

describe("lshShape", () => {
  it("derives the most rows that keep a pair at the threshold a candidate with p >= 0.99", () => {
    expect(lshShape(0.8, 128)).toEqual({ bands: 21, rows: 6 })
    expect(lshShape(0.9, 128)).toEqual({ bands: 12, rows: 10 })
    expect(lshShape(0.5, 128)).toEqual({ bands: 42, rows: 3 })
    expect(candidateProbability(0.8, 21, 6)).toBeGreaterThan(0.99)
    expect(candidateProbability(0.8, 18, 7)).toBeLessThan(0.99)
  })

  it("uses given bands and rows", () => {
    expect(lshShape(0.8, 128, { bands: 16, rows: 8 })).toEqual({ bands: 16, rows: 8 })
    expect(lshShape(0.8, 128, { bands: 32 })).toEqual({ bands: 32, rows: 4 })
    expect(lshShape(0.8, 100, { rows: 5 })).toEqual({ bands: 20, rows: 5 })
  })
})

describe("LSH buckets", () => {
  it("forEachBucket finds exactly the groups of equal keys of >= 2 docs, per band", () => {
    const keys = [
      [5, 1],
      [7, 1],
      [5, 2],
      [0x12345678, 2],
      [0x12345678, 3],
      [9, 70000]
    ]
    const seen: Array<string> = []
    forEachBucket(
      Int32Array.from([0, 1, 2, 3, 4, 5]),
      2,
      (d, b) => keys[d]![b]!,
      (m, from, to) => {
        seen.push(Array.from(m.subarray(from, to)).join(","))
      }
    )
    expect(seen.sort()).toEqual(["0,1", "0,2", "2,3", "3,4"])
  })
})

describe("near-duplicate search", () => {
  const g = textMaker(11)
  const bases = Array.from({ length: 300 }, () => g.text(40 + Math.floor(g.random() * 40)))
  // each base with two light edits (1 word of 40-80: J ~ 0.86-0.93), plus 300 unrelated texts
  const texts = [
    ...bases,
    ...bases.map((t) => g.edit(t, 1)),
    ...bases.map((t) => g.edit(t, 1)),
    ...Array.from({ length: 300 }, () => g.text(60))
  ]
  const sk = sketchTexts(texts, opts())

  it.each(["oph", "classic"] as const)(
    "finds every pair at Jaccard >= 0.8 and nothing below (brute force agrees), %s MinHash",
    (method) => {
      const sets = texts.map((t) => shingleSet(t, 3))
      const truth: Array<string> = []
      for (let i = 0; i < texts.length; i++) {
        for (let j = i + 1; j < texts.length; j++) if (sortedJaccard(sets[i]!, sets[j]!) >= 0.8) truth.push(`${i},${j}`)
      }
      const found = nearPairs(sketchTexts(texts, opts({ method })), { threshold: 0.8 }).map(([i, j]) => `${i},${j}`)
      expect(truth.length).toBeGreaterThan(600)
      expect(found.sort()).toEqual(truth.sort())
    }
  )

  it("clusters each base with its edits and leaves unrelated texts alone", () => {
    const clusters = nearClusters(sk, { threshold: 0.8 })
    for (let i = 0; i < 300; i++) {
      expect([clusters[i], clusters[300 + i], clusters[600 + i]]).toEqual([i, i, i])
      expect(clusters[900 + i]).toBe(900 + i)
    }
  })

  it("respects the active mask and skips texts without words", () => {
    const active = new Uint8Array(texts.length).fill(1)
    active[300] = 0
    const clusters = nearClusters(sk, { threshold: 0.8, active })
    expect([clusters[0], clusters[300], clusters[600]]).toEqual([0, -1, 0])
    const empty = sketchTexts(["", "  ", "a b c"], opts())
    expect(Array.from(nearClusters(empty, { threshold: 0.8 }))).toEqual([-1, -1, 2])
  })

  it("crossMatches flags docs near any eval doc", () => {
    const evals = sketchTexts([g.edit(bases[7]!, 1), bases[8]!, g.text(50)], opts())
    const hit = crossMatches(sk, evals, { threshold: 0.8 })
    const flagged = Array.from(hit).flatMap((h, i) => (h ? [i] : []))
    expect(flagged).toEqual([7, 8, 307, 308, 607, 608])
  })
})

describe("SketchPool", () => {
  it("gives the same sketches on worker threads as on this thread", async () => {
    const g = textMaker(5)
    const texts = Array.from({ length: 5000 }, (_, i) => (i % 97 === 0 ? null : g.text(5 + (i % 60))))
    const inline = sketchTexts(texts, opts())
    const pool = new SketchPool(opts(), 2)
    try {
      // feed out of order, in uneven chunks, as a scan of a union might
      const order = Array.from({ length: texts.length }, (_, i) => (i * 7919) % texts.length)
      for (let k = 0; k < order.length; k += 1000) {
        const at = order.slice(k, k + 1000)
        pool.push(
          at,
          at.map((i) => texts[i])
        )
      }
      const pooled = await pool.finish(texts.length)
      expect(pooled.bandHashes).toEqual(inline.bandHashes)
      expect(pooled.offsets).toEqual(inline.offsets)
      expect(pooled.sizes).toEqual(inline.sizes)
      expect(pooled.sets).toEqual(inline.sets)
      expect(pool.done).toBe(texts.length)
    } finally {
      await pool.close()
    }
  })

  it("in document order (a table scan), including texts that are not strings and documents never pushed", async () => {
    const g = textMaker(9)
    const texts: Array<unknown> = Array.from({ length: 9000 }, (_, i) =>
      i % 89 === 0
        ? null
        : i % 211 === 0
          ? 42
          : i % 7 === 0
            ? `Ünïcödé ΣΑΣ ${g.text(3)} \ud800 😀`
            : g.text(5 + (i % 70))
    )
    for (const [workers, missing] of [
      [2, 0],
      [2, 3],
      [0, 3]
    ] as const) {
      // with `missing` > 0, the last documents are never pushed: no words, like empty texts
      const n = texts.length + missing
      const inline = sketchTexts(
        [...texts, ...Array(missing).fill(null)].map((t) => (typeof t === "string" ? t : null)),
        opts()
      )
      const pool = new SketchPool(opts(), workers)
      try {
        for (let k = 0; k < texts.length; k += 700) {
          pool.push(
            Array.from({ length: Math.min(700, texts.length - k) }, (_, i) => k + i),
            texts.slice(k, k + 700)
          )
        }
        const pooled = await pool.finish(n)
        expect(pooled.n).toBe(n)
        expect(Array.from(pooled.bandHashes)).toEqual(Array.from(inline.bandHashes))
        expect(Array.from(pooled.offsets)).toEqual(Array.from(inline.offsets))
        expect(Array.from(pooled.sizes)).toEqual(Array.from(inline.sizes))
        expect(Array.from(pooled.sets)).toEqual(Array.from(inline.sets))
        expect(pool.done).toBe(texts.length)
      } finally {
        await pool.close()
      }
    }
  })
})

describe("SketchPool with long texts", () => {
  it("gives the same sketches when a batch's sets outgrow the room the pool set aside for them", async () => {
    const g = textMaker(17)
    const texts = Array.from({ length: 4500 }, (_, i) => g.text(150 + (i % 300)))
    const inline = sketchTexts(texts, opts())
    const pool = new SketchPool(opts(), 2)
    try {
      for (let k = 0; k < texts.length; k += 1500) {
        pool.push(
          Array.from({ length: 1500 }, (_, i) => k + i),
          texts.slice(k, k + 1500)
        )
      }
      const pooled = await pool.finish(texts.length)
      expect(Array.from(pooled.bandHashes)).toEqual(Array.from(inline.bandHashes))
      expect(Array.from(pooled.offsets)).toEqual(Array.from(inline.offsets))
      expect(Array.from(pooled.sets)).toEqual(Array.from(inline.sets))
    } finally {
      await pool.close()
    }
  })
})

describe("packed texts", () => {
  it("sketchPacked(packTexts(texts)) = sketchBatch(texts), and shingles read the same from both", () => {
    const g = textMaker(13)
    const texts = Array.from({ length: 300 }, (_, i) =>
      i % 50 === 0 ? "" : `${g.text(2 + (i % 40))} İstanbul ǅ ẞ Σ. \udc00x ${"ab ".repeat(i % 5)}`
    )
    const { units, ends } = packTexts(texts)
    expect(ends.length).toBe(texts.length)
    expect(units.length).toBe(texts.reduce((s, t) => s + t.length, 0))
    for (const method of ["oph", "classic"] as const) {
      const a = sketchTexts(texts, opts({ method })),
        b = sketchPacked(units, ends, opts({ method }))
      expect(Array.from(b.bandHashes)).toEqual(Array.from(a.bandHashes))
      expect(Array.from(b.offsets)).toEqual(Array.from(a.offsets))
      expect(Array.from(b.sets)).toEqual(Array.from(a.sets))
    }
  })

  it("lower-case words: non-ASCII letters fold like String#toLowerCase, surrogates are kept", () => {
    expect(Array.from(shingleSet("ÀÉÎ ΣΑΣ ДОМ", 3))).toEqual(Array.from(shingleSet("àéî σασ дом", 3)))
    expect(Array.from(shingleSet("a\u2003b\u00a0c\u3001d", 1))).toEqual(Array.from(shingleSet("a b c d", 1)))
    expect(shingleSet("😀 😀", 1).length).toBe(1)
    expect(Array.from(shingleSet("😀 x", 1))).not.toEqual(Array.from(shingleSet("😁 x", 1)))
  })
})
