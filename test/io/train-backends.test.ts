// The Trainer's backends against each other and against hand computations:
// - equivalence (the guide's test): tfjs (cpu and wasm) and the sparse trainer from the same seeded init,
//   same batches, plain SGD, label smoothing, per-pair weights and margins: losses match at every step
//   (≤ 1e-5) and held-out scores after training (≤ 1e-4);
// - determinism: the same seed gives identical weights (sha256) on sparse and wasm, another seed other ones;
// - memory: tf.memory() is the same after every epoch (no leaked tensors);
// - refusals: a model too large for the wasm heap, and tfjs-node-gpu / tfjs-node asked for but not installed;
// - Plackett–Luce: the listwise loss equals −log P(order) computed by brute force over all permutations.
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { Trainer, type TrainSpec } from "../../workbench/core/trainer.js"
import { resolveBackend } from "../../workbench/io/train/backend.js"
import { TrainerLive } from "../../workbench/io/train/live.js"
import { SparseModel } from "../../workbench/io/train/sparse.js"
import { checksum, fromModel, initWeights } from "../../workbench/io/train/weights.js"
import { pairLockstep, pairsFrom, weightedPairs } from "../support/train.js"
import { bagConfig, hashText, pairSet, rawPairs, spec } from "./train-helpers.js"

const run = <A, E>(e: Effect.Effect<A, E, Trainer>) => Effect.runPromise(Effect.provide(e, TrainerLive))
const trainOnce = (s: TrainSpec, pairs = pairSet(rawPairs(1200, 7), 12)) =>
  run(
    Effect.gen(function* () {
      return yield* (yield* Trainer).train(s, { pairs }, () => Effect.void)
    })
  )

describe("tfjs and the sparse trainer are the same model", () => {
  for (const backend of ["cpu", "wasm"] as const) {
    it(`${backend}: matching losses at every step and matching scores after 30 SGD steps`, async () => {
      await Effect.runPromise(resolveBackend(backend, "test"))
      const { TfjsModel } = await import("../../workbench/io/train/tfjs-model.js")
      const cfg = bagConfig(12)
      const data = weightedPairs()
      const sparse = new SparseModel(cfg, initWeights(cfg, 1), { kind: "sgd", lr: 5 })
      const tfjs = new TfjsModel(cfg, initWeights(cfg, 1), "sgd", 5)
      const { maxLoss } = pairLockstep(tfjs, sparse, data, { steps: 30, batch: 64, lr: 5 })
      const probe = pairsFrom(data, 2000)
      const x = tfjs.scorePairs(probe),
        y = sparse.scorePairs(probe)
      let maxScore = 0
      for (let i = 0; i < 100; i++)
        maxScore = Math.max(maxScore, Math.abs(x.chosen[i]! - y.chosen[i]!), Math.abs(x.rejected[i]! - y.rejected[i]!))
      expect(maxLoss).toBeLessThan(1e-5)
      expect(maxScore).toBeLessThan(1e-4)
      // the scores are not all equal (the test would pass on a dead model otherwise)
      expect(Math.max(...y.chosen) - Math.min(...y.chosen)).toBeGreaterThan(0.01)
      tfjs.free()
    }, 120_000)
  }
})

describe("determinism and memory", () => {
  for (const backend of ["sparse", "wasm"] as const) {
    it(`${backend}: same seed, identical weights; another seed, other weights`, async () => {
      const s = spec(bagConfig(12), { backend, epochs: 1 })
      const hash = async (seed: number) => checksum(fromModel((await trainOnce({ ...s, seed })).model) as never)
      const [a, b, c] = [await hash(1), await hash(1), await hash(2)]
      expect(a).toBe(b)
      expect(c).not.toBe(a)
    }, 120_000)
  }

  it("wasm: tf.memory() is flat across epochs and back to the start after training", async () => {
    await Effect.runPromise(resolveBackend("wasm", "test"))
    const tf = await import("@tensorflow/tfjs")
    const before = tf.memory().numTensors
    const counts: number[] = []
    await run(
      Effect.gen(function* () {
        const trainer = yield* Trainer
        return yield* trainer.train(
          spec(bagConfig(12), { backend: "wasm", epochs: 4, validationFraction: 0.2 }),
          { pairs: pairSet(rawPairs(800, 3), 12) },
          (r) =>
            Effect.sync(() => {
              if (r.step % Math.ceil(r.steps / 4) === 0) counts.push(tf.memory().numTensors)
            })
        )
      })
    )
    expect(counts.length).toBe(4)
    expect(new Set(counts).size).toBe(1)
    expect(tf.memory().numTensors).toBe(before)
  }, 120_000)

  it("sparse training learns the synthetic signal (held-out accuracy above 0.8)", async () => {
    const r = await trainOnce(
      spec(bagConfig(14, 16, 16), { epochs: 3, validationFraction: 0.2, patience: 1 }),
      pairSet(rawPairs(3000, 5), 14)
    )
    expect(r.backend).toBe("sparse")
    expect(r.history[r.bestEpoch]!.valAccuracy!).toBeGreaterThan(0.8)
  }, 120_000)
})

describe("refusals", () => {
  it("refuses a model too large for the wasm heap before allocating it", async () => {
    const err = await trainOnce(spec(bagConfig(20, 64, 64), { backend: "wasm" })).catch((e: Error) => e)
    expect(String((err as Error).message)).toMatch(
      /param backend: the model has 67,117,185 parameters \(0\.25 GiB\); training it with adam on wasm peaks at about 4\.80 GiB\n {2}expected: at most 4\.00 GiB/
    )
  })

  for (const [backend, pkg] of [
    ["tensorflow-gpu", "@tensorflow/tfjs-node-gpu"],
    ["tensorflow", "@tensorflow/tfjs-node"]
  ] as const) {
    it(`backend ${backend} without ${pkg} installed: the exact message`, async () => {
      const err = (await trainOnce(spec(bagConfig(12), { backend })).catch((e: Error) => e)) as Error
      expect(err.message).toBe(
        `node "rm" (train.reward-model) param backend: backend "${backend}" needs ${pkg}, which is not installed\n` +
          "  expected: npm install @tensorflow/tfjs-node-gpu@4.22.0 (Linux x64, NVIDIA driver, CUDA 11.2 and cuDNN 8.1 for its libtensorflow 2.9.1; " +
          "its install script downloads libtensorflow from storage.googleapis.com) or @tensorflow/tfjs-node@4.22.0 for the CPU build\n" +
          '  fix: install it next to wb, or use backend: "auto" (the sparse CPU trainer when it is missing), "sparse", "wasm" or "cpu"'
      )
    })
  }

  it("auto falls through to sparse and says why", async () => {
    const r = await trainOnce(spec(bagConfig(12), { backend: "auto", epochs: 1 }))
    expect(r.backend).toBe("sparse")
    expect(r.notes).toEqual(["@tensorflow/tfjs-node-gpu: not installed", "@tensorflow/tfjs-node: not installed"])
  })
})

describe("Plackett–Luce", () => {
  it("the listwise loss equals −log P(observed order) by brute force over all 24 orders of 4", () => {
    const cfg = bagConfig(12)
    const m = new SparseModel(cfg, initWeights(cfg, 3), { kind: "sgd", lr: 0 })
    for (let j = 0; j < cfg.hidden; j++) m.w.w2[j]! *= 20 // spread the scores
    const texts = ["a prompt here", "good0 good1 w1", "good2 bad1 w2", "w3 w4", "bad0 bad2 w5"].map((t) =>
      hashText(t, 12)
    )
    const offsets = new Int32Array(6)
    texts.forEach((t, i) => (offsets[i + 1] = offsets[i]! + t.length))
    const ids = new Int32Array(offsets[5]!)
    texts.forEach((t, i) => ids.set(t, offsets[i]!))
    const lists = {
      texts: { count: 5, offsets, ids },
      prompt: Int32Array.of(0),
      starts: Int32Array.of(0, 4),
      members: Int32Array.of(1, 2, 3, 4)
    }
    const pairOf = (r: number) => ({
      ...lists,
      chosen: Int32Array.of(r),
      rejected: Int32Array.of(r),
      smoothing: new Float32Array(1),
      margin: new Float32Array(1),
      weight: Float32Array.of(1),
      tie: new Uint8Array(1)
    })
    const s = [1, 2, 3, 4].map((r) => m.scorePairs(pairOf(r)).chosen[0]!)
    const perms = (n: number): number[][] =>
      n === 1
        ? [[0]]
        : perms(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]))
    const prob = (order: number[]) =>
      order.reduce((p, o, i) => (p * Math.exp(s[o]!)) / order.slice(i).reduce((z, q) => z + Math.exp(s[q]!), 0), 1)
    expect(perms(4).reduce((t, p) => t + prob(p), 0)).toBeCloseTo(1, 12)
    const loss = m.listLoss(lists, Int32Array.of(0), false).loss
    expect(loss).toBeCloseTo(-Math.log(prob([0, 1, 2, 3])), 5)
    expect(Math.max(...s) - Math.min(...s)).toBeGreaterThan(0.1)
  })
})
