/**
 * The training loop every backend shares: a seeded validation split, seeded shuffling per epoch,
 * the learning-rate schedule, per-step progress, per-epoch validation, early stopping on validation
 * loss with the best epoch's weights kept. The backend is an `Engine` (sparse.ts or tfjs-model.ts).
 */
import { Effect } from "effect"
import { DataError } from "../../core/errors.js"
import type { EpochReport, StepReport, TrainSpec } from "../../core/trainer.js"
import type { BatchResult } from "./pair-loss.js"
import { mulberry32, shuffleInPlace, type Weights } from "./weights.js"

export interface Engine {
  readonly train: (idx: Int32Array, lr: number) => BatchResult
  readonly evaluate: (idx: Int32Array) => BatchResult
  /** A copy of the current weights. */
  readonly weights: () => Weights
}

export interface LoopResult {
  readonly weights: Weights
  readonly history: ReadonlyArray<EpochReport>
  readonly bestEpoch: number
  readonly pairsPerSec: number
  readonly stoppedEarly: boolean
}

/** The learning rate at step t of T. */
export function scheduledLr(spec: Pick<TrainSpec, "lr" | "schedule">, t: number, T: number): number {
  if (spec.schedule === "linear") return spec.lr * (1 - t / T)
  if (spec.schedule === "cosine") return spec.lr * 0.5 * (1 + Math.cos((Math.PI * t) / T))
  return spec.lr
}

/** Seeded split of n examples: validation indices (sorted) and training indices. */
export function splitIndices(n: number, fraction: number, seed: number): { train: Int32Array; val: Int32Array } {
  // its own stream (seed + 1), so the split does not move when the init changes
  const all = shuffleInPlace(
    Int32Array.from({ length: n }, (_, i) => i),
    mulberry32(seed + 1)
  )
  const nVal = Math.floor(n * fraction)
  return { val: all.slice(0, nVal).sort(), train: all.slice(nVal).sort() }
}

const accuracyOf = (r: { correct: number; counted: number }) => (r.counted > 0 ? r.correct / r.counted : 0)

export const runLoop = (
  spec: TrainSpec,
  n: number,
  engine: Engine,
  onStep: (r: StepReport) => Effect.Effect<void>,
  onEpoch: (r: EpochReport) => Effect.Effect<void> = () => Effect.void
): Effect.Effect<LoopResult, DataError> =>
  Effect.gen(function* () {
    const { train, val } = splitIndices(n, spec.validationFraction, spec.seed)
    if (train.length === 0) {
      return yield* new DataError({
        where: `${spec.where} input pairs`,
        found: `${n} trainable rows, ${val.length} of them held out for validation`,
        expected: "at least one training pair after the validation split",
        fix: "give the node more labelled pairs, or lower validationFraction"
      })
    }
    const rng = mulberry32(spec.seed + 2)
    const perEpoch = Math.ceil(train.length / spec.batchSize),
      steps = perEpoch * spec.epochs
    const history: EpochReport[] = []
    let best: Weights | null = null,
      bestEpoch = -1,
      bestLoss = Infinity,
      bad = 0,
      step = 0,
      seconds = 0
    let stoppedEarly = false
    for (let epoch = 0; epoch < spec.epochs; epoch++) {
      const order = shuffleInPlace(train.slice(), rng)
      let lossSum = 0,
        correct = 0,
        counted = 0
      const started = performance.now()
      for (let b = 0; b < perEpoch; b++) {
        const idx = order.subarray(b * spec.batchSize, (b + 1) * spec.batchSize)
        const t0 = performance.now()
        const r = engine.train(idx, scheduledLr(spec, step, steps))
        seconds += (performance.now() - t0) / 1000
        if (!Number.isFinite(r.loss)) {
          return yield* new DataError({
            where: `${spec.where} epoch ${epoch} step ${step}`,
            found: `the training loss became ${r.loss}`,
            expected: "a finite loss",
            fix: "lower lr, or use optimizer: adam"
          })
        }
        lossSum += r.loss * idx.length
        correct += r.correct
        counted += r.counted
        step++
        const elapsed = (performance.now() - started) / 1000
        yield* onStep({
          epoch,
          step,
          steps,
          loss: r.loss,
          accuracy: accuracyOf(r),
          pairsPerSec: elapsed > 0 ? Math.min(train.length, (b + 1) * spec.batchSize) / elapsed : 0
        })
      }
      const v = val.length > 0 ? engine.evaluate(val) : null
      const epochSeconds = (performance.now() - started) / 1000
      const report: EpochReport = {
        epoch,
        step,
        loss: lossSum / train.length,
        accuracy: accuracyOf({ correct, counted }),
        valLoss: v?.loss ?? null,
        valAccuracy: v === null ? null : accuracyOf(v),
        pairsPerSec: train.length / epochSeconds
      }
      history.push(report)
      yield* onEpoch(report)
      if (v === null) continue
      if (v.loss < bestLoss) {
        bestLoss = v.loss
        bestEpoch = epoch
        best = engine.weights()
        bad = 0
      } else if (spec.patience > 0 && ++bad >= spec.patience) {
        stoppedEarly = epoch < spec.epochs - 1
        break
      }
    }
    return {
      weights: best ?? engine.weights(),
      history,
      bestEpoch: best === null ? history.length - 1 : bestEpoch,
      pairsPerSec:
        seconds > 0 ? (step === 0 ? 0 : Math.min(step * spec.batchSize, history.length * train.length) / seconds) : 0,
      stoppedEarly
    }
  })
