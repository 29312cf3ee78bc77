/** Greedy near-duplicate matching over per-field LSH buckets (nodes/lib/minhash-match.ts). */
import { describe, expect, it } from "vitest"
import { similar, sketchTexts, type SketchOptions } from "../../nodes/lib/minhash.js"
import { bucketIndex, greedyMatch, sliceSketches } from "../../nodes/lib/minhash-match.js"

const opts: SketchOptions = { bands: 21, rows: 6, shingle: 3, seed: 1, setCap: 256 }
const words = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `w${from + i}`).join(" ")
const order = (n: number) => Int32Array.from({ length: n }, (_, i) => i)

describe("greedyMatch", () => {
  it("removes a row only for a kept row it matches itself: no chains (A ~ B ~ C, A !~ C keeps A and C)", () => {
    // word-shingle Jaccard: A-B 53/63 = 0.84, B-C 53/63 = 0.84, A-C 48/68 = 0.71
    const texts = [words(1, 60), words(6, 65), words(11, 70)]
    const sk = sketchTexts(texts, opts)
    const index = bucketIndex([sk])
    const run = (o: Int32Array) =>
      Array.from(
        greedyMatch({
          rows: 3,
          order: o,
          views: [{ index, offsets: [0] }],
          probes: [[0, 0]],
          match: (i, j) => similar(sk, i, sk, j, 0.8),
          k: 1,
          cap: 64
        }).twin
      )
    expect(run(order(3))).toEqual([-1, 0, -1])
    // B first: it stays, and both A and C go to it
    expect(run(Int32Array.from([1, 0, 2]))).toEqual([1, -1, 1])
  })

  it("keeps up to k rows of a group, and slices of one batch index like batches of their own", () => {
    const texts = Array.from({ length: 5 }, () => words(1, 30))
    const all = sketchTexts([...texts, ...texts], opts)
    const sk = sliceSketches(all, 5, 10)
    expect(Array.from(sk.sizes)).toEqual(Array.from(all.sizes.subarray(0, 5)))
    const index = bucketIndex([sk])
    const twin = greedyMatch({
      rows: 5,
      order: order(5),
      views: [{ index, offsets: [0] }],
      probes: [[0, 0]],
      match: (i, j) => similar(sk, i, sk, j, 0.8),
      k: 3,
      cap: 64
    }).twin
    expect(Array.from(twin)).toEqual([-1, -1, -1, 0, 0])
  })

  it("skips a probe whose buckets many rows share (a common baseline text) when a rarer one exists", () => {
    // 40 rows: one shared text (field 0) and a text of their own (field 1); row 40 repeats row 7
    const shared = words(1, 300)
    const own = Array.from({ length: 41 }, (_, i) =>
      words(1000 + 50 * (i === 40 ? 7 : i), 1040 + 50 * (i === 40 ? 7 : i))
    )
    const all = sketchTexts([...own.map(() => shared), ...own], opts)
    const index = bucketIndex([all])
    const calls = { n: 0 }
    const match = (i: number, j: number) => {
      calls.n++
      return similar(all, i, all, j, 0.8) && similar(all, 41 + i, all, 41 + j, 0.8)
    }
    const both = greedyMatch({
      rows: 41,
      order: order(41),
      views: [{ index, offsets: [0, 41] }],
      probes: [
        [0, 0],
        [0, 41]
      ],
      match,
      k: 1,
      cap: 64
    })
    expect(both.twin[40]).toBe(7)
    expect(Array.from(both.twin).filter((t) => t >= 0)).toEqual([7])
    // the shared text's buckets hold 40 documents per band: only the own text's buckets were searched
    expect(both.compared).toBe(1)
    expect(calls.n).toBe(1)
  })
})
