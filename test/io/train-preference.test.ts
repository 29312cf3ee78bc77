// The pairwise preference model (head "preference", w1 [3D, H]) on both trainers:
// - equivalence: the sparse trainer (sparse-preference.ts) and tfjs (cpu and wasm: the code path tfjs-node
//   runs too) from the same seeded init, same batches, plain SGD, label smoothing, per-pair weights and
//   margins: losses match at every step (≤ 1e-5) and P(a ≻ b) on held-out pairs after training (≤ 1e-4);
// - antisymmetry: P(a ≻ b) + P(b ≻ a) = 1 on every pair, on both trainers, after training;
// - expressiveness: a rock-paper-scissors preference (rock ≻ scissors ≻ paper ≻ rock, for every prompt)
//   that no reward model can represent: a trained reward model ranks at most 2 of each 3 right, the
//   preference model ≥ 95% (training prompts and held-out ones).
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { type ModelConfig, type PairSet, Trainer, type TrainSpec } from "../../workbench/core/trainer.js"
import { resolveBackend } from "../../workbench/io/train/backend.js"
import { TrainerLive } from "../../workbench/io/train/live.js"
import { SparsePreferenceModel } from "../../workbench/io/train/sparse-preference.js"
import { initWeights, mulberry32 } from "../../workbench/io/train/weights.js"
import { pairLockstep, pairsFrom, weightedPairs } from "../support/train.js"
import { bagConfig, pairSet, spec } from "./train-helpers.js"

const prefConfig = (bits: number, dim = 16, hidden = 16): ModelConfig => ({
  ...bagConfig(bits, dim, hidden),
  head: "preference"
})
const σ = (x: number) => 1 / (1 + Math.exp(-x))
const run = <A, E>(e: Effect.Effect<A, E, Trainer>) => Effect.runPromise(Effect.provide(e, TrainerLive))

/** The same pairs with a and b swapped (chosen ↔ rejected). */
const swapped = (p: PairSet): PairSet => ({ ...p, chosen: p.rejected, rejected: p.chosen })

describe("preference model: tfjs and the sparse trainer are the same model", () => {
  for (const backend of ["cpu", "wasm"] as const) {
    it(`${backend}: matching losses at every step, matching P(a ≻ b) after 30 SGD steps`, async () => {
      await Effect.runPromise(resolveBackend(backend, "test"))
      const { TfjsModel } = await import("../../workbench/io/train/tfjs-model.js")
      const cfg = prefConfig(12)
      const data = weightedPairs()
      const sparse = new SparsePreferenceModel(cfg, initWeights(cfg, 1), { kind: "sgd", lr: 5 })
      const tfjs = new TfjsModel(cfg, initWeights(cfg, 1), "sgd", 5)
      expect(sparse.w.w1.length).toBe(3 * 16 * 16)
      const { maxLoss, losses } = pairLockstep(tfjs, sparse, data, { steps: 30, batch: 64, lr: 5 })
      const probe = pairsFrom(data, 2000)
      const x = tfjs.scorePairs(probe),
        y = sparse.scorePairs(probe)
      let maxP = 0
      const ps: number[] = []
      for (let i = 0; i < 100; i++) {
        const p = σ(y.chosen[i]! - y.rejected[i]!)
        ps.push(p)
        maxP = Math.max(maxP, Math.abs(σ(x.chosen[i]! - x.rejected[i]!) - p))
      }
      console.log(
        `${backend} preference: max |Δloss| ${maxLoss.toExponential(2)}, max |Δp| ${maxP.toExponential(2)}, loss ${losses[0]!.toFixed(4)} → ${losses[29]!.toFixed(4)}`
      )
      expect(maxLoss).toBeLessThan(1e-5)
      expect(maxP).toBeLessThan(1e-4)
      // it learnt something (a dead model would match too): the probabilities spread, the loss fell
      expect(Math.max(...ps) - Math.min(...ps)).toBeGreaterThan(0.02)
      expect(losses.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(losses[0]!)
      // antisymmetric on tfjs too: swapping the sides negates the logit
      const z = tfjs.scorePairs(swapped(probe))
      for (let i = 0; i < 100; i++)
        expect(σ(x.chosen[i]! - x.rejected[i]!) + σ(z.chosen[i]! - z.rejected[i]!)).toBeCloseTo(1, 6)
      tfjs.free()
    }, 120_000)
  }
})

/** Per prompt (seeded filler words), the three pairs of a rock-paper-scissors cycle. */
function rps(prompts: number, seed: number): PairSet {
  const rng = mulberry32(seed)
  const beats: Array<[string, string]> = [
    ["rock crushes", "scissors cut"],
    ["scissors cut", "paper covers"],
    ["paper covers", "rock crushes"]
  ]
  const raw: Array<{ prompt: string; chosen: string; rejected: string }> = []
  for (let k = 0; k < prompts; k++) {
    const prompt = `round ${k} of the game pick your move w${Math.floor(rng() * 500)}`
    for (const [w, l] of beats) raw.push({ prompt, chosen: `I play ${w}`, rejected: `I play ${l}` })
  }
  // a PairSet is oriented chosen-first: the preference model is antisymmetric, so no order can help it
  return pairSet(raw, 12)
}

const accuracy = (s: { chosen: Float32Array; rejected: Float32Array }) => {
  let right = 0
  for (let i = 0; i < s.chosen.length; i++) if (s.chosen[i]! > s.rejected[i]!) right++
  return right / s.chosen.length
}

const trainAndScore = (s: TrainSpec, trainPairs: PairSet, tests: ReadonlyArray<PairSet>) =>
  run(
    Effect.gen(function* () {
      const trainer = yield* Trainer
      const r = yield* trainer.train(s, { pairs: trainPairs }, () => Effect.void)
      const scores = []
      for (const t of tests) scores.push(yield* trainer.score(r.model, t, "sparse", "test"))
      return { r, scores }
    })
  )

describe("preference model: antisymmetric, and learns what a reward model cannot", () => {
  it("rock-paper-scissors: reward model ≤ 2/3 per cycle, preference model ≥ 0.95; p_ab + p_ba = 1", async () => {
    const trainSet = rps(40, 1),
      heldOut = rps(20, 2)
    const over = { epochs: 60, batchSize: 30, lr: 0.03, validationFraction: 0, patience: 0 }
    const rm = await trainAndScore(spec(bagConfig(12), over), trainSet, [trainSet, heldOut])
    const pm = await trainAndScore(spec(prefConfig(12), over), trainSet, [trainSet, heldOut, swapped(heldOut)])
    const [rmTrain, rmHeld] = rm.scores.map(accuracy)
    const [pmTrain, pmHeld] = pm.scores.map(accuracy)
    console.log(
      `rock-paper-scissors accuracy: reward model ${rmTrain!.toFixed(3)} / ${rmHeld!.toFixed(3)}, preference model ${pmTrain!.toFixed(3)} / ${pmHeld!.toFixed(3)} (train / held-out prompts)`
    )
    // a scalar reward orders the three moves of a prompt, so at most 2 of its 3 cycle pairs come out right
    for (const s of rm.scores) {
      for (let k = 0; k < s.chosen.length; k += 3) {
        let right = 0
        for (let j = k; j < k + 3; j++) if (s.chosen[j]! > s.rejected[j]!) right++
        expect(right).toBeLessThanOrEqual(2)
      }
    }
    expect(rmTrain!).toBeLessThanOrEqual(2 / 3)
    expect(pmTrain!).toBeGreaterThanOrEqual(0.95)
    expect(pmHeld!).toBeGreaterThanOrEqual(0.95)
    const [, ab, ba] = pm.scores
    for (let i = 0; i < ab!.chosen.length; i++) {
      const pab = σ(ab!.chosen[i]! - ab!.rejected[i]!),
        pba = σ(ba!.chosen[i]! - ba!.rejected[i]!)
      expect(Math.abs(pab + pba - 1)).toBeLessThan(1e-6)
    }
  }, 120_000)
})
