// Plackett–Luce on tfjs (padded lists, a masked logsumexp per suffix) against the sparse trainer's
// listLoss (itself held to brute force in train-backends.test.ts): same seeded init, same batches of
// lists of 2–6 responses, plain SGD: losses and top-1 counts match at every step, scores after training;
// and the live Trainer trains lists on tfjs (no longer refused) and the loss falls.
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { type ListSet, Trainer } from "../../workbench/core/trainer.js"
import { resolveBackend } from "../../workbench/io/train/backend.js"
import { TrainerLive } from "../../workbench/io/train/live.js"
import { SparseModel } from "../../workbench/io/train/sparse.js"
import { initWeights, mulberry32 } from "../../workbench/io/train/weights.js"
import { batch, lockstep } from "../support/train.js"
import { bagConfig, hashText, spec } from "./train-helpers.js"

/** n lists of 2–6 responses, best first by their count of "good" minus "bad" marker words (seeded). */
function lists(n: number, seed: number, bits: number): ListSet {
  const rng = mulberry32(seed)
  const words = (k: number) => Array.from({ length: k }, () => `w${Math.floor(rng() * 3000)}`)
  const bags: Int32Array[] = [],
    prompt: number[] = [],
    starts = [0],
    members: number[] = []
  for (let l = 0; l < n; l++) {
    prompt.push(bags.length)
    bags.push(hashText(words(8).join(" "), bits))
    const k = 2 + Math.floor(rng() * 5)
    const rs = Array.from({ length: k }, (_, j) => ({
      q: j,
      text: [...words(10), ...Array(j).fill("good"), ...Array(k - j).fill("bad")]
    }))
    rs.sort((a, b) => b.q - a.q)
    for (const r of rs) {
      members.push(bags.length)
      bags.push(hashText(r.text.join(" "), bits))
    }
    starts.push(members.length)
  }
  const offsets = new Int32Array(bags.length + 1)
  bags.forEach((b, i) => (offsets[i + 1] = offsets[i]! + b.length))
  const ids = new Int32Array(offsets[bags.length]!)
  bags.forEach((b, i) => ids.set(b, offsets[i]!))
  return {
    texts: { count: bags.length, offsets, ids },
    prompt: Int32Array.from(prompt),
    starts: Int32Array.from(starts),
    members: Int32Array.from(members)
  }
}

describe("Plackett–Luce on tfjs equals the sparse trainer's", () => {
  for (const backend of ["cpu", "wasm"] as const) {
    it(`${backend}: matching listwise losses and top-1 at every SGD step`, async () => {
      await Effect.runPromise(resolveBackend(backend, "test"))
      const { TfjsModel } = await import("../../workbench/io/train/tfjs-model.js")
      const cfg = bagConfig(12)
      const data = lists(640, 3, 12)
      const sparse = new SparseModel(cfg, initWeights(cfg, 1), { kind: "sgd", lr: 1 })
      const tfjs = new TfjsModel(cfg, initWeights(cfg, 1), "sgd", 1)
      const { maxLoss, losses } = lockstep(20, (s) => {
        const idx = batch(s, 32)
        const a = tfjs.trainLists(data, idx, 1)
        const b = sparse.listLoss(data, idx, true)
        sparse.step(1)
        expect(a.counted).toBe(32)
        return [a, b]
      })
      const all = Int32Array.from({ length: 640 }, (_, i) => i)
      const ev = tfjs.evaluateLists(data, all),
        es = sparse.listLoss(data, all, false)
      console.log(
        `${backend} Plackett–Luce: max |Δloss| ${maxLoss.toExponential(2)}, loss ${losses[0]!.toFixed(4)} → ${losses[19]!.toFixed(4)}, eval ${ev.loss.toFixed(5)} vs ${es.loss.toFixed(5)}`
      )
      expect(maxLoss).toBeLessThan(1e-5)
      expect(Math.abs(ev.loss - es.loss)).toBeLessThan(1e-5)
      expect(ev.correct).toBe(es.correct)
      expect(losses.slice(-5).reduce((x, y) => x + y) / 5).toBeLessThan(losses[0]!)
      tfjs.free()
    }, 120_000)
  }

  it("the Trainer trains lists on wasm: the loss falls, top-1 beats chance, no tensor leaks", async () => {
    await Effect.runPromise(resolveBackend("wasm", "test"))
    const tf = await import("@tensorflow/tfjs")
    const before = tf.memory().numTensors
    const r = await Effect.runPromise(
      Effect.provide(
        Effect.gen(function* () {
          const s = spec(bagConfig(12), {
            backend: "wasm",
            epochs: 4,
            batchSize: 32,
            lr: 0.02,
            validationFraction: 0.2
          })
          return yield* (yield* Trainer).train(s, { lists: lists(600, 5, 12) }, () => Effect.void)
        }),
        TrainerLive
      )
    )
    expect(r.backend).toBe("tfjs-wasm")
    expect(tf.memory().numTensors).toBe(before)
    expect(r.history.at(-1)!.loss).toBeLessThan(r.history[0]!.loss)
    // chance top-1 is the mean of 1/k over k uniform in 2..6: 0.29
    expect(r.history[r.bestEpoch]!.valAccuracy!).toBeGreaterThan(0.5)
  }, 120_000)
})
