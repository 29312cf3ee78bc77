/**
 * What the train tests share: the lockstep loop that holds tfjs and the sparse trainer to the same
 * losses step by step, and the weighted pairs it runs on (test/io/train-preference, train-backends,
 * train-listwise); pairs over bags of ids laid out prompt, chosen, rejected (train-kernels,
 * train-threads); and a model table's forward pass written out again by hand, an independent check of
 * the trainers (test/nodes/train-pipeline, train-preference).
 */
import { expect } from "vitest"
import { hashText } from "../../nodes/lib/text-hash.js"
import type { PairSet } from "../../workbench/core/trainer.js"
import { mulberry32 } from "../../workbench/io/train/weights.js"
import { pairSet, rawPairs } from "../io/train-helpers.js"

/**
 * The equivalence tests' data: 2100 seeded pairs (12-bit bags) with per-pair weights, margins and label
 * smoothing, so every term of the loss is exercised. Batches of 64 leave pairs 2000.. held out.
 */
export function weightedPairs(): PairSet {
  const rng = mulberry32(99)
  return pairSet(rawPairs(2100, 7), 12, {
    weight: () => 0.5 + rng(),
    margin: () => 0.2 * rng(),
    smoothing: 0.1
  })
}

/** One trainer step's outcome, as both the tfjs model and the sparse trainer report it. */
interface StepResult {
  readonly loss: number
  readonly correct: number
}

/**
 * Runs `steps` steps; `step(s)` trains both models on batch s and returns [tfjs's, sparse's] results.
 * The correct counts must agree at every step; returns the largest loss gap and the sparse losses.
 */
export function lockstep(steps: number, step: (s: number) => readonly [StepResult, StepResult]) {
  let maxLoss = 0
  const losses: number[] = []
  for (let s = 0; s < steps; s++) {
    const [a, b] = step(s)
    losses.push(b.loss)
    maxLoss = Math.max(maxLoss, Math.abs(a.loss - b.loss))
    expect(a.correct).toBe(b.correct)
  }
  return { maxLoss, losses }
}

/**
 * `steps` plain-SGD steps of the tfjs model and the sparse trainer on the same batches of pairs (batch s:
 * rows s·batch ..), held to each other as in lockstep.
 */
export const pairLockstep = (
  tfjs: { train(data: PairSet, idx: Int32Array, lr: number): StepResult },
  sparse: { pairLoss(data: PairSet, idx: Int32Array, grad: boolean): StepResult; step(lr: number): void },
  data: PairSet,
  o: { readonly steps: number; readonly batch: number; readonly lr: number }
) =>
  lockstep(o.steps, (s) => {
    const idx = batch(s, o.batch)
    const a = tfjs.train(data, idx, o.lr)
    const b = sparse.pairLoss(data, idx, true)
    sparse.step(o.lr)
    return [a, b]
  })

/** Batch s of `size` consecutive rows. */
export const batch = (s: number, size: number) => Int32Array.from({ length: size }, (_, i) => s * size + i)

/** The pairs from `from` on (held out of the lockstep batches). */
export const pairsFrom = (data: PairSet, from: number): PairSet => ({
  ...data,
  prompt: data.prompt.subarray(from),
  chosen: data.chosen.subarray(from),
  rejected: data.rejected.subarray(from)
})

/** n unweighted pairs over bags of ids (`offsets` / `ids`) laid out prompt, chosen, rejected per pair. */
export function pairsOfBags(n: number, offsets: ReadonlyArray<number>, ids: ReadonlyArray<number>): PairSet {
  const idx = (k: number) => Int32Array.from({ length: n }, (_, p) => 3 * p + k)
  return {
    texts: { count: 3 * n, offsets: Int32Array.from(offsets), ids: Int32Array.from(ids) },
    prompt: idx(0),
    chosen: idx(1),
    rejected: idx(2),
    smoothing: new Float32Array(n),
    margin: new Float32Array(n),
    weight: new Float32Array(n).fill(1),
    tie: new Uint8Array(n)
  }
}

/** A model table's `data` blob (little-endian float32) as floats. */
export const floats = (v: unknown) => {
  const b = v as Uint8Array
  const f = new Float32Array(b.byteLength / 4)
  new Uint8Array(f.buffer).set(b)
  return f
}

/**
 * The model's forward pass written out again: each text a mean-pooled bag of its hashText rows, the
 * bags concatenated ([p; r] for a reward model, [p; a; b] for a preference model's g), a relu MLP → 1.
 */
export function forwardByHand(
  m: Record<string, Float32Array>,
  dim: number,
  hidden: number,
  texts: ReadonlyArray<string>
): number {
  const bag = (text: string) => {
    const ids = hashText(text),
      v = new Float64Array(dim)
    for (const id of ids) for (let k = 0; k < dim; k++) v[k]! += m["emb"]![id * dim + k]! / ids.length
    return v
  }
  const x = texts.flatMap((t) => [...bag(t)])
  let s = m["b2"]![0]!
  for (let j = 0; j < hidden; j++) {
    let pre = m["b1"]![j]!
    for (let i = 0; i < x.length; i++) pre += x[i]! * m["w1"]![i * hidden + j]!
    s += Math.max(pre, 0) * m["w2"]![j]!
  }
  return s
}
