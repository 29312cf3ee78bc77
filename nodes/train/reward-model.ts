import { Effect } from "effect"
import type { ColumnType } from "../../workbench/core/column-type.js"
import { output } from "../../workbench/core/contract.js"
import { defineNode } from "../../workbench/core/node.js"
import { Sql } from "../../workbench/core/services.js"
import { type EpochReport, Trainer } from "../../workbench/core/trainer.js"
import { readPairs } from "./data.js"
import { modelColumns, writeModels } from "./model-table.js"
import {
  missingFeatures,
  modelConfig,
  reportStep,
  TrainParams,
  trainPairsInput,
  trainSpec,
  trainStats
} from "./params.js"

export const historyColumns = {
  epoch: "int64",
  step: "int64",
  loss: "float64",
  accuracy: "float64",
  val_loss: "float64",
  val_accuracy: "float64",
  pairs_per_s: "float64"
} as const satisfies Record<string, ColumnType>

/** One row per epoch (and member, for an ensemble). */
export const writeHistory = (runs: ReadonlyArray<ReadonlyArray<EpochReport>>, withMember: boolean) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const rows = runs.flatMap((h, k) => h.map((e) => ({ k, e })))
    const col = (f: (e: EpochReport) => number | null) => rows.map(({ e }) => f(e))
    const table = sql.tempName("history")
    const specs = Object.entries(historyColumns).map(([name, type]) => ({ name, type }))
    yield* sql.load(table, withMember ? [{ name: "member", type: "int64" }, ...specs] : specs, [
      ...(withMember ? [rows.map(({ k }) => k)] : []),
      col((e) => e.epoch),
      col((e) => e.step),
      col((e) => e.loss),
      col((e) => e.accuracy),
      col((e) => e.valLoss),
      col((e) => e.valAccuracy),
      col((e) => e.pairsPerSec)
    ])
    return table
  })

/**
 * `train.reward-model` — a Bradley–Terry reward model r(prompt, response) trained on labelled pairs: an
 * embedding bag over featurize.hash's hashed unigrams + bigrams (one shared table, prompt and response
 * mean-pooled separately) or featurize.embed's vectors, then an MLP [p; r] → hidden relu → 1. Loss per
 * pair `(1−α)·softplus(−d) + α·softplus(d)`, d = r_chosen − r_rejected − margin, weighted by `weight`.
 * Seeded and deterministic on one backend. The backend (`auto`: tfjs-node-gpu → tfjs-node → the sparse
 * CPU trainer) is named in the stats.
 *
 * **Input columns**: `pairs`: pair_id, label ('a' | 'b'; 'tie' per `ties`; others skipped) and
 * prompt_hash, a_hash, b_hash, hash_config (features: hash) or prompt_embedding, a_embedding,
 * b_embedding (features: embedding); optional margin (per-pair margin), label_weight (strength.filter's
 * soft target: α = max(labelSmoothing, 1 − label_weight)), weight (loss weight > 0).
 *
 * **Output columns**
 * - `model` (main): one row per tensor: tensor (emb, w1, b1, w2, b2), shape (json), data (blob,
 *   little-endian float32, row-major; w1 is [2·dim, hidden], x @ w1), config (json: format
 *   wb-reward-model, input bag | dense, bucketsLog2, dim, hidden, features = the hash_config, meta
 *   {backend, seed, best_epoch}). The best epoch's weights (lowest validation loss).
 * - `history` (aux): per epoch: epoch, step, loss, accuracy (train, ties excluded), val_loss,
 *   val_accuracy, pairs_per_s.
 *
 * **Params**: features (hash), epochs (3), batchSize (256), lr (0.01), optimizer (adam), schedule
 * (constant), dim (64), hidden (64), labelSmoothing (0), ties (skip), validationFraction (0.1), patience
 * (1), seed (1), backend (auto).
 *
 * **Stats**: backend, backend_notes (why tfjs-node was passed over), params, pairs, skipped_unlabelled,
 * skipped_ties, pairs_per_s, epochs_run, best_epoch, stopped_early, val_accuracy, val_loss.
 *
 * **Example**
 * ```ts
 * const feats = p.node("feats", featurize.hash(), { pairs: train })
 * const rm = p.node("rm", train.rewardModel({ epochs: 3 }), { pairs: feats })
 * p.node("scored", train.score(), { model: rm, pairs: heldOutFeats })
 * ```
 */
export const rewardModel = defineNode({
  kind: "train.reward-model",
  version: 1,
  summary: "Train a Bradley–Terry reward model (hashed-feature bag or embeddings → MLP) on labelled pairs",
  params: TrainParams,
  inputs: { pairs: trainPairsInput },
  outputs: {
    model: output("main", modelColumns, { doc: "one row per tensor: tensor, shape, data (LE float32 blob), config" }),
    history: output("aux", historyColumns, {
      doc: "one row per epoch: loss, accuracy, val_loss, val_accuracy, pairs_per_s"
    })
  },
  // what `wb serve` draws (core/views.ts): per-epoch train and validation curves from `history`
  views: (["loss", "accuracy"] as const).map((m) => ({
    name: m,
    title: `${m === "loss" ? "Loss" : "Accuracy"} per epoch`,
    table: "history",
    kind: "line" as const,
    x: "epoch",
    sql: `SELECT epoch::DOUBLE AS x, y::DOUBLE AS y, color FROM (UNPIVOT (SELECT epoch, ${m} AS train, val_${m} AS validation
      FROM input) ON train, validation INTO NAME color VALUE y) ORDER BY x, color`,
    xLabel: "epoch",
    yLabel: m,
    doc: "validation drifting away from train is overfitting; the model kept is the best validation epoch"
  })),
  requires: [Trainer],
  run: ({ node, kind, params, inputs }) =>
    Effect.gen(function* () {
      const where = `node "${node}" (${kind})`
      const missing = missingFeatures(inputs.pairs, params.features, where)
      if (missing !== null) return yield* missing
      const data = yield* readPairs(inputs.pairs, {
        features: params.features,
        mode: "train",
        ties: params.ties,
        labelSmoothing: params.labelSmoothing,
        where
      })
      const trainer = yield* Trainer
      const onStep = yield* reportStep()
      const config = modelConfig(params, data)
      const r = yield* trainer.train(trainSpec(params, config, where), { pairs: data.pairs }, onStep)
      const model = yield* writeModels(
        "model",
        [{ model: r.model, meta: { backend: r.backend, seed: params.seed, best_epoch: r.bestEpoch } }],
        false
      )
      const history = yield* writeHistory([r.history], false)
      return { tables: { model, history }, stats: trainStats(r, data) }
    })
})
