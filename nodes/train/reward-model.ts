import { Effect, Schema } from "effect"
import type { ColumnType } from "../../workbench/core/column-type.js"
import { output } from "../../workbench/core/contract.js"
import { defineNode } from "../../workbench/core/node.js"
import { Sql } from "../../workbench/core/services.js"
import { type EpochReport, Trainer } from "../../workbench/core/trainer.js"
import { trainPairs } from "./pairwise.js"
import { lossParam, trainLists } from "./listwise.js"
import { curveViews } from "./views.js"
import { modelColumns, writeModels } from "./model-table.js"
import { missingFeatures, TrainFields, trainPairsInput } from "./params.js"

export const historyColumns = {
  epoch: "int64",
  step: "int64",
  loss: "float64",
  accuracy: "float64",
  val_loss: "float64",
  val_accuracy: "float64",
  pairs_per_s: "float64"
} as const satisfies Record<string, ColumnType>

/** The `history` output of the single-model trainers (reward and preference model): one row per epoch. */
export const historyOutput = output("aux", historyColumns, {
  doc: "one row per epoch: loss, accuracy, val_loss, val_accuracy, pairs_per_s"
})

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
 * With `loss: "plackett-luce"` (listwise, as PRO) the pairs must carry `rank_group` (load.oasst's: the
 * pairs of one ranked group of responses share it): each group's distinct responses (by response_a /
 * response_b) are rebuilt into one list, best first — ordered by `rank_a` / `rank_b` when the group's rows
 * carry them (lower is better), else by wins within the group (stat `list_order` says which) — and
 * trained with Σ_{i<k−1} [logsumexp(r_i..r_k) − r_i] per list. Validation holds out whole lists; its
 * accuracy is listwise top-1 (the best response scores highest). label_weight, margin, weight, ties and
 * labelSmoothing are per-pair settings and do not apply (labelSmoothing > 0 is refused).
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
 * **Params**
 *
 * | param | default | what |
 * |---|---|---|
 * | loss | bradley-terry | bradley-terry (pairs) or plackett-luce (ranked lists per rank_group) |
 * | features | hash | hash (embedding bag over featurize.hash's ids) or embedding (featurize.embed's vectors) |
 * | epochs, batchSize, lr | 3, 256, 0.01 | passes; pairs (lists) per step; peak learning rate |
 * | optimizer, schedule | adam, constant | adam (lazy on the sparse trainer) or sgd; constant, linear, cosine |
 * | dim, hidden | 64, 64 | embedding width; hidden units of the MLP over [p; r] |
 * | labelSmoothing, ties | 0, skip | α; label 'tie': skip, or train toward p = 0.5 |
 * | validationFraction, patience, seed, backend | 0.1, 1, 1, auto | held-out share; early stopping; seed; backend |
 *
 * **Stats**: backend, backend_notes (why tfjs-node was passed over), params, pairs, skipped_unlabelled,
 * skipped_ties, pairs_per_s, epochs_run, best_epoch, stopped_early, val_accuracy, val_loss. With
 * plackett-luce instead of pairs / skipped_* / pairs_per_s / val_accuracy: loss, lists, mean_list_length,
 * list_order, lists_by_rank, lists_by_wins, skipped_groups (one response), skipped_no_group (NULL
 * rank_group), lists_per_s, val_top1.
 *
 * **Example**
 * ```ts
 * const feats = p.node("feats", featurize.hash(), { pairs: train })
 * const rm = p.node("rm", train.rewardModel({ epochs: 3 }), { pairs: feats })
 * p.node("scored", train.score(), { model: rm, pairs: heldOutFeats })
 * const pl = p.node("pl", train.rewardModel({ loss: "plackett-luce" }), { pairs: oasstFeats })
 * ```
 */
export const rewardModel = defineNode({
  kind: "train.reward-model",
  version: 1,
  summary:
    "Train a reward model (hashed-feature bag or embeddings → MLP) on labelled pairs: Bradley–Terry, or Plackett–Luce over ranked groups",
  params: Schema.Struct({ ...TrainFields, loss: lossParam }),
  inputs: { pairs: trainPairsInput },
  outputs: {
    model: output("main", modelColumns, { doc: "one row per tensor: tensor, shape, data (LE float32 blob), config" }),
    history: historyOutput
  },
  // what `wb serve` draws (core/views.ts): per-epoch train and validation curves from `history`
  views: curveViews,
  requires: [Trainer],
  run: ({ node, kind, params, inputs }) =>
    Effect.gen(function* () {
      const where = `node "${node}" (${kind})`
      const missing = missingFeatures(inputs.pairs, params.features, where)
      if (missing !== null) return yield* missing
      if (params.loss === "plackett-luce") {
        const { result: r, stats } = yield* trainLists(params, inputs.pairs, where)
        const meta = { backend: r.backend, seed: params.seed, best_epoch: r.bestEpoch, loss: params.loss }
        const model = yield* writeModels("model", [{ model: r.model, meta }], false)
        return { tables: { model, history: yield* writeHistory([r.history], false) }, stats }
      }
      return yield* trainPairs(params, inputs.pairs, where, "reward")
    })
})
