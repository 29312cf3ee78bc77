/** The params every trainer of the family shares, and the spec and stats built from them. */
import { Effect, Schema } from "effect"
import { input } from "../../workbench/core/contract.js"
import { DataError } from "../../workbench/core/errors.js"
import type { InputTable } from "../../workbench/core/node.js"
import { param } from "../../workbench/core/params.js"
import { Progress } from "../../workbench/core/services.js"
import type { EpochReport, ModelConfig, StepReport, TrainResult, TrainSpec } from "../../workbench/core/trainer.js"
import { featureColumns, type Features, type ReadPairs } from "./data.js"

const positiveInt = Schema.Int.check(Schema.isGreaterThan(0))
const positive = Schema.Number.check(Schema.isGreaterThan(0))

export const backendParam = param(
  Schema.Literals(["auto", "sparse", "wasm", "cpu", "tensorflow", "tensorflow-gpu"]),
  "auto",
  "auto: @tensorflow/tfjs-node-gpu, then @tensorflow/tfjs-node when installed, else the sparse CPU trainer; " +
    "sparse; wasm / cpu: TensorFlow.js (bundled); tensorflow / tensorflow-gpu: tfjs-node(-gpu), refused when not installed"
)

export const featuresParam = param(
  Schema.Literals(["hash", "embedding"]),
  "hash",
  "hash: an embedding bag over featurize.hash's prompt_hash/a_hash/b_hash; embedding: an MLP over featurize.embed's *_embedding"
)

export const TrainFields = {
  features: featuresParam,
  epochs: param(positiveInt, 3, "passes over the training pairs"),
  batchSize: param(positiveInt.check(Schema.isLessThanOrEqualTo(65535)), 256, "pairs per optimizer step"),
  lr: param(positive, 0.01, "learning rate (the schedule's peak)"),
  optimizer: param(
    Schema.Literals(["adam", "sgd"]),
    "adam",
    "adam (lazy on the sparse trainer: touched rows only) or plain sgd"
  ),
  schedule: param(
    Schema.Literals(["constant", "linear", "cosine"]),
    "constant",
    "learning-rate schedule over all steps"
  ),
  dim: param(positiveInt, 64, "embedding width of the hashed-feature table (hash features)"),
  hidden: param(positiveInt, 64, "hidden units of the MLP over [prompt; response]"),
  labelSmoothing: param(
    Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 0.5 })),
    0,
    "α: loss (1−α)·softplus(−d) + α·softplus(d); a label_weight column (strength.filter) sets α = 1 − label_weight per pair when larger"
  ),
  ties: param(Schema.Literals(["skip", "half"]), "skip", "label 'tie': skip the pair, or train it toward p = 0.5"),
  validationFraction: param(
    Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 0.9 })),
    0.1,
    "share of the pairs (seeded) held out to pick the best epoch and stop early; 0: the last epoch wins"
  ),
  patience: param(
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
    1,
    "epochs without a lower validation loss before stopping (0: never)"
  ),
  seed: param(Schema.Int, 1, "seeds the init, the validation split and the shuffling"),
  backend: backendParam,
  threads: param(
    Schema.NullOr(positiveInt),
    null,
    "threads of the sparse trainer (hash features): null, one per core up to 4; a given count gives the same model every run"
  )
}

export const TrainParams = Schema.Struct(TrainFields)
export type TrainParams = typeof TrainParams.Type

/** Feature and weighting columns a pairs input may carry. */
export const pairOptionalColumns = {
  prompt_hash: "list<int32>",
  a_hash: "list<int32>",
  b_hash: "list<int32>",
  hash_config: "json",
  prompt_embedding: "list<float32>",
  a_embedding: "list<float32>",
  b_embedding: "list<float32>",
  margin: "float64",
  label_weight: "float64",
  weight: "float64"
} as const

export const trainPairsInput = input(
  { pair_id: "utf8", label: "utf8" },
  {
    optional: pairOptionalColumns,
    doc: "labelled pairs with featurize.hash's (or featurize.embed's) columns; optional margin, label_weight (strength.filter), weight"
  }
)

/** A DataError when the feature columns `features` needs are missing. */
export function missingFeatures(input: InputTable, features: Features, where: string): DataError | null {
  const need = [...featureColumns(features), ...(features === "hash" ? ["hash_config"] : [])]
  const missing = need.filter((c) => !input.schema.columns.some((s) => s.name === c))
  if (missing.length === 0) return null
  return new DataError({
    where: `${where} input pairs`,
    found: `no ${missing.join(", ")} column (the pairs have ${input.schema.columns.map((c) => c.name).join(", ")})`,
    expected: `${need.join(", ")} (features: ${features})`,
    fix:
      features === "hash"
        ? "put a featurize.hash node before this one"
        : "put a featurize.embed node before this one, or use features: hash"
  })
}

export function modelConfig(p: TrainParams, data: Pick<ReadPairs, "hashConfig" | "dim">): ModelConfig {
  const hash = data.hashConfig as { bucketsLog2?: number } | null
  return {
    format: "wb-reward-model",
    version: 1,
    input: p.features === "hash" ? "bag" : "dense",
    bucketsLog2: p.features === "hash" ? (hash?.bucketsLog2 ?? 18) : 0,
    dim: p.features === "hash" ? p.dim : data.dim,
    hidden: p.hidden,
    features: p.features === "hash" ? data.hashConfig : { embedding: data.dim }
  }
}

export const trainSpec = (p: TrainParams, config: ModelConfig, where: string, seed = p.seed): TrainSpec => ({
  config,
  backend: p.backend,
  optimizer: p.optimizer,
  lr: p.lr,
  schedule: p.schedule,
  epochs: p.epochs,
  batchSize: p.batchSize,
  validationFraction: p.validationFraction,
  patience: p.patience,
  seed,
  threads: p.threads,
  where
})

/**
 * A training run's progress: steps done of all steps (the bar), and per step its `loss`, `accuracy`
 * and `pairs_per_s` as metrics (the CLI's line, the workbench's live curves); per epoch `val_loss` and
 * `val_accuracy` when pairs are held out. The Progress service throttles the metrics. An ensemble's
 * members train one after the other: `part` places member `index` of `count` on one step axis.
 */
export const reportTraining = (part: { readonly index: number; readonly count: number } = { index: 0, count: 1 }) =>
  Effect.gen(function* () {
    const progress = yield* Progress
    let perPart = 0
    const at = (epoch: number, step: number) => ({
      epoch,
      step: part.index * perPart + step,
      steps: part.count * perPart
    })
    const onStep = (r: StepReport) =>
      Effect.gen(function* () {
        perPart = r.steps
        if (r.step === 1 && part.count > 1) yield* progress.note(`member ${part.index + 1}/${part.count}`)
        const where = at(r.epoch, r.step)
        yield* progress.rows(where.step, where.steps, "steps")
        yield* progress.metrics({ loss: r.loss, accuracy: r.accuracy, pairs_per_s: r.pairsPerSec }, where)
      })
    const onEpoch = (r: EpochReport) =>
      r.valLoss === null
        ? Effect.void
        : progress.metrics(
            { val_loss: r.valLoss, ...(r.valAccuracy === null ? {} : { val_accuracy: r.valAccuracy }) },
            at(r.epoch, r.step)
          )
    return { onStep, onEpoch }
  })

/** A run's stats (numbers and strings only). */
export const trainStats = (r: TrainResult, data: ReadPairs): Record<string, number | string> => ({
  backend: r.backend,
  ...(r.backend === "sparse" ? { threads: r.threads } : {}),
  ...(r.kernels === undefined ? {} : { kernels: r.kernels }),
  ...(r.notes.length > 0 ? { backend_notes: r.notes.join("; ") } : {}),
  params: r.params,
  pairs: data.pairs.prompt.length,
  skipped_unlabelled: data.skipped.unlabelled,
  skipped_ties: data.skipped.ties,
  pairs_per_s: Math.round(r.pairsPerSec),
  epochs_run: r.history.length,
  best_epoch: r.bestEpoch,
  stopped_early: r.stoppedEarly ? 1 : 0,
  ...(r.history[r.bestEpoch]?.valAccuracy != null ? { val_accuracy: r.history[r.bestEpoch]!.valAccuracy! } : {}),
  ...(r.history[r.bestEpoch]?.valLoss != null ? { val_loss: r.history[r.bestEpoch]!.valLoss! } : {})
})
