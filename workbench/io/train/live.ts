/**
 * `TrainerLive`: the live `Trainer` service. Resolves the backend (backend.ts), builds the engine —
 * the sparse TypeScript trainer (sparse.ts; sparse-preference.ts for `head: "preference"`), or the
 * TensorFlow.js model (loaded on first use; both heads, pairs or ranked lists) — and runs the shared
 * loop (loop.ts). A preference model is pairwise: ranked lists train reward models only.
 */
import { availableParallelism } from "node:os"
import { Effect, Layer } from "effect"
import { DataError } from "../../core/errors.js"
import {
  type EpochReport,
  type ListSet,
  type Model,
  type PairSet,
  paramCount,
  type StepReport,
  type TrainBackend,
  Trainer,
  type TrainResult,
  type TrainSpec,
  type UsedBackend
} from "../../core/trainer.js"
import { resolveBackend, wasmBudget } from "./backend.js"
import { type Engine, runLoop } from "./loop.js"
import { SparseModel } from "./sparse.js"
import { SparsePreferenceModel } from "./sparse-preference.js"
import { fromModel, initWeights, toModel, type Weights } from "./weights.js"

const tfjsModule = Effect.promise(() => import("./tfjs-model.js"))

const isTfjs = (b: UsedBackend) => b !== "sparse"

/** Ids outside the table would read past it (wasm does not check): refuse them with the first offender. */
function checkIds(spec: TrainSpec, texts: PairSet["texts"]): DataError | null {
  if (spec.config.input !== "bag" || texts.ids === undefined) return null
  const V = 2 ** spec.config.bucketsLog2,
    ids = texts.ids
  for (let i = 0; i < ids.length; i++) {
    if (ids[i]! >= 0 && ids[i]! < V) continue
    return new DataError({
      where: `${spec.where} input pairs`,
      found: `hashed feature id ${ids[i]} (the model has 2^${spec.config.bucketsLog2} = ${V} buckets)`,
      expected: `ids in [0, ${V}): the featurizer's bucketsLog2 must match the model's`,
      fix: "featurize with the same bucketsLog2 as the model (featurize.hash's hash_config)"
    })
  }
  for (let t = 0; t < texts.count; t++) {
    if (texts.offsets![t + 1]! > texts.offsets![t]!) continue
    return new DataError({
      where: `${spec.where} input pairs`,
      found: `text ${t} has no hashed features`,
      expected: "at least one feature id per text (featurize.hash gives an empty text one id)",
      fix: "featurize the pairs with featurize.hash"
    })
  }
  return null
}

function sparseEngine(m: SparseModel | SparsePreferenceModel, data: { pairs: PairSet } | { lists: ListSet }): Engine {
  const loss =
    "pairs" in data
      ? (idx: Int32Array, g: boolean) => m.pairLoss(data.pairs, idx, g)
      : (idx: Int32Array, g: boolean) => (m as SparseModel).listLoss(data.lists, idx, g)
  return {
    train: (idx, lr) => {
      const r = loss(idx, true)
      m.step(lr)
      return r
    },
    evaluate: (idx) => loss(idx, false),
    weights: () => ({
      emb: m.w.emb.slice(),
      w1: m.w.w1.slice(),
      b1: m.w.b1.slice(),
      w2: m.w.w2.slice(),
      b2: m.w.b2.slice()
    })
  }
}

const train = (
  spec: TrainSpec,
  data: { readonly pairs: PairSet } | { readonly lists: ListSet },
  onStep: (r: StepReport) => Effect.Effect<void>,
  onEpoch?: (r: EpochReport) => Effect.Effect<void>
): Effect.Effect<TrainResult, DataError> =>
  Effect.gen(function* () {
    const texts = "pairs" in data ? data.pairs.texts : data.lists.texts
    const bad = checkIds(spec, texts)
    if (bad !== null) return yield* bad
    let init: Weights
    if (spec.init === undefined) init = initWeights(spec.config, spec.seed)
    else {
      const w = fromModel(spec.init)
      if (typeof w === "string") {
        return yield* new DataError({
          where: `${spec.where} init model`,
          found: w,
          expected: "a model table written by train.rewardModel",
          fix: "retrain the model"
        })
      }
      init = w
    }
    const n = "pairs" in data ? data.pairs.prompt.length : data.lists.prompt.length
    const pref = spec.config.head === "preference"
    if (pref && "lists" in data) {
      return yield* new DataError({
        where: `${spec.where} input`,
        found: "ranked lists for a preference model",
        expected: "pairs: P(a ≻ b | prompt) is pairwise; Plackett–Luce trains a reward model",
        fix: 'train ranked lists with train.rewardModel({ loss: "plackett-luce" })'
      })
    }
    const choice = spec.backend
    if (choice === "wasm") {
      const tooBig = wasmBudget(spec.config, spec.optimizer, spec.where)
      if (tooBig !== null) return yield* tooBig
    }
    const resolved = yield* resolveBackend(choice, spec.where)
    let engine: Engine,
      free = () => {},
      kernels: "wasm-simd" | "js" | undefined
    const opt = { kind: spec.optimizer, lr: spec.lr }
    // threads split the row passes of the pairwise bag model; lists and the preference head use one
    const threads =
      isTfjs(resolved.backend) || pref || "lists" in data || spec.config.input !== "bag" ? 1 : threadCount(spec.threads)
    if (!isTfjs(resolved.backend)) {
      const m = pref
        ? new SparsePreferenceModel(spec.config, init, opt)
        : new SparseModel(spec.config, init, opt, threads)
      engine = sparseEngine(m, data)
      kernels = m.kernels
      if (m instanceof SparseModel) free = () => m.close()
    } else {
      if ("lists" in data) {
        let K = 0
        for (let l = 0; l < n; l++) K = Math.max(K, data.lists.starts[l + 1]! - data.lists.starts[l]!)
        // a tfjs bag holds at most 65,535 texts: a batch of lists padded to the longest must fit
        if (Math.min(spec.batchSize, n) * K > 65535) {
          return yield* new DataError({
            where: `${spec.where} param batchSize`,
            found: `${spec.batchSize} lists per step, the longest of ${K} responses: ${spec.batchSize * K} padded members`,
            expected: `at most 65,535 padded members per step on ${resolved.backend}`,
            fix: `use batchSize ≤ ${Math.floor(65535 / K)}, or backend: "sparse"`
          })
        }
      }
      const { TfjsModel } = yield* tfjsModule
      const m = new TfjsModel(spec.config, init, spec.optimizer, spec.lr)
      engine =
        "pairs" in data
          ? {
              train: (idx, lr) => m.train(data.pairs, idx, lr),
              evaluate: (idx) => m.evaluate(data.pairs, idx),
              weights: () => m.weights()
            }
          : {
              train: (idx, lr) => m.trainLists(data.lists, idx, lr),
              evaluate: (idx) => m.evaluateLists(data.lists, idx),
              weights: () => m.weights()
            }
      free = () => m.free()
    }
    const r = yield* runLoop(spec, n, engine, onStep, onEpoch).pipe(Effect.ensuring(Effect.sync(free)))
    return {
      model: toModel(spec.config, r.weights, false),
      history: r.history,
      backend: resolved.backend,
      threads,
      ...(kernels === undefined ? {} : { kernels }),
      notes: resolved.notes,
      params: paramCount(spec.config),
      bestEpoch: r.bestEpoch,
      pairsPerSec: r.pairsPerSec,
      stoppedEarly: r.stoppedEarly
    }
  })

const score = (model: Model, pairs: PairSet, backend: TrainBackend, where: string) =>
  Effect.gen(function* () {
    const w = fromModel(model)
    if (typeof w === "string") {
      return yield* new DataError({
        where: `${where} input model`,
        found: w,
        expected: "a model table written by train.rewardModel",
        fix: "retrain the model"
      })
    }
    const bad = checkIds({ config: model.config, where } as TrainSpec, pairs.texts)
    if (bad !== null) return yield* bad
    const resolved = yield* resolveBackend(backend === "auto" ? "sparse" : backend, where)
    if (!isTfjs(resolved.backend)) {
      const opt = { kind: "sgd", lr: 0 } as const
      const m =
        model.config.head === "preference"
          ? new SparsePreferenceModel(model.config, w, opt)
          : new SparseModel(model.config, w, opt, model.config.input === "bag" ? threadCount(null) : 1)
      try {
        return { ...m.scorePairs(pairs), backend: resolved.backend }
      } finally {
        if (m instanceof SparseModel) m.close()
      }
    }
    const { TfjsModel } = yield* tfjsModule
    const m = new TfjsModel(model.config, w, "sgd", 0)
    const out = m.scorePairs(pairs)
    m.free()
    return { ...out, backend: resolved.backend }
  })

/** The sparse trainer's threads: as asked, else one per core up to 4 (beyond that the rows run out). */
const threadCount = (asked: number | null | undefined): number => asked ?? Math.min(4, availableParallelism())

export const TrainerLive = Layer.succeed(Trainer, Trainer.of({ train, score }))
