/**
 * The sparse trainer's worker threads (row-threads.ts) against the same model on one thread: the same
 * losses and weights step by step (up to the order partial pooled sums are added in), bit-identical
 * between two threaded runs, and with its workers stopped the model keeps working on one thread.
 * Batches are long-text sized (~100 ids a text) so every step crosses the threshold that hands rows
 * to the workers.
 */
import { describe, expect, it } from "vitest"
import type { ModelConfig, PairSet } from "../../workbench/core/trainer.js"
import { SparseModel } from "../../workbench/io/train/sparse.js"
import { initWeights, mulberry32 } from "../../workbench/io/train/weights.js"
import { pairsOfBags } from "../support/train.js"

const cfg: ModelConfig = {
  format: "wb-reward-model",
  version: 1,
  input: "bag",
  bucketsLog2: 14,
  dim: 16,
  hidden: 8,
  features: null
}

/** n pairs of random bags; a "good" id range in the chosen text makes the data learnable. */
function longPairs(n: number, seed: number): PairSet {
  const rng = mulberry32(seed),
    V = 2 ** cfg.bucketsLog2
  const offsets = [0],
    ids: number[] = []
  const text = (good: boolean) => {
    const len = 60 + Math.floor(rng() * 80)
    for (let i = 0; i < len; i++) ids.push(Math.floor(rng() * (V - 100)))
    if (good) for (let i = 0; i < 5; i++) ids.push(V - 100 + Math.floor(rng() * 100))
    offsets.push(ids.length)
  }
  for (let p = 0; p < n; p++) {
    text(false)
    text(true)
    text(false)
  }
  return pairsOfBags(n, offsets, ids)
}

function run(pairs: PairSet, threads: number, kind: "adam" | "sgd", steps: number) {
  // mean-pooled bag gradients are small: plain SGD needs a large rate to move the table
  const lr = kind === "adam" ? 0.05 : 50
  const m = new SparseModel(cfg, initWeights(cfg, 7), { kind, lr }, threads)
  const losses: number[] = []
  try {
    for (let s = 0; s < steps; s++) {
      const idx = Int32Array.from({ length: 256 }, (_, i) => (s * 256 + i) % pairs.prompt.length)
      losses.push(m.pairLoss(pairs, idx, true).loss)
      m.step(lr)
    }
    return { losses, emb: m.w.emb.slice(), w1: m.w.w1.slice(), scores: m.scorePairs(pairs) }
  } finally {
    m.close()
  }
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!))
  return d
}

describe("sparse trainer threads", () => {
  const pairs = longPairs(1024, 3)

  it.each(["adam", "sgd"] as const)("%s: three threads follow one thread step by step", (kind) => {
    const one = run(pairs, 1, kind, 12),
      three = run(pairs, 3, kind, 12)
    for (let s = 0; s < 12; s++) expect(three.losses[s]).toBeCloseTo(one.losses[s]!, 9)
    expect(maxDiff(three.emb, one.emb)).toBeLessThan(1e-6)
    expect(maxDiff(three.w1, one.w1)).toBeLessThan(1e-6)
    expect(maxDiff(three.scores.chosen, one.scores.chosen)).toBeLessThan(1e-5)
    // it learnt something: the weights moved and the loss fell
    expect(maxDiff(one.emb, initWeights(cfg, 7).emb)).toBeGreaterThan(1e-3)
    expect(one.losses.at(-1)!).toBeLessThan(one.losses[0]!)
  })

  it("is bit-identical run to run with the same thread count", () => {
    const a = run(pairs, 2, "adam", 6),
      b = run(pairs, 2, "adam", 6)
    expect(a.losses).toEqual(b.losses)
    expect(maxDiff(a.emb, b.emb)).toBe(0)
  })

  it("keeps training on one thread after its workers stop", () => {
    const m = new SparseModel(cfg, initWeights(cfg, 7), { kind: "adam", lr: 0.05 }, 2)
    const idx = Int32Array.from({ length: 256 }, (_, i) => i)
    const first = m.pairLoss(pairs, idx, true).loss
    m.step(0.05)
    m.close()
    for (let s = 0; s < 5; s++) {
      m.pairLoss(pairs, idx, true)
      m.step(0.05)
    }
    expect(m.pairLoss(pairs, idx, false).loss).toBeLessThan(first)
  })
})
