import { Effect } from "effect"
import { output } from "../../workbench/core/contract.js"
import { defineNode } from "../../workbench/core/node.js"
import { Trainer } from "../../workbench/core/trainer.js"
import { trainPairs } from "./pairwise.js"
import { modelColumns } from "./model-table.js"
import { missingFeatures, TrainParams, trainPairsInput } from "./params.js"
import { historyOutput } from "./reward-model.js"
import { curveViews } from "./views.js"

/**
 * `train.preference-model` — a pairwise preference model P(a ≻ b | prompt) over both responses, the
 * preference model of *Nash Learning from Human Feedback*: g(p, a, b) = w2ᵀ relu(W1ᵀ [p; a; b] + b1) + b2
 * and logit P(a ≻ b) = g(p, a, b) − g(p, b, a). Antisymmetric by construction: P(a ≻ b) = 1 − P(b ≻ a)
 * exactly, so the model cannot learn a position bias (which side a response is on never matters), and
 * unlike a reward model it can represent non-transitive preferences (a ≻ b ≻ c ≻ a). Inputs, features,
 * loss and backends are train.reward-model's: the loss `(1−α)·softplus(−d) + α·softplus(d)` with d =
 * logit(chosen ≻ rejected) − margin, weighted by `weight`; ties skipped or trained to 0.5 (`ties`).
 *
 * **Input columns**: `pairs`: as train.reward-model: pair_id, label ('a' | 'b'; 'tie' per `ties`),
 * featurize.hash's prompt_hash, a_hash, b_hash, hash_config (or featurize.embed's *_embedding);
 * optional margin, label_weight, weight.
 *
 * **Output columns**
 * - `model` (main): train.reward-model's model table; config has `head: "preference"` and w1 is
 *   [3·dim, hidden] (x = [p; a; b], x @ w1). train.score gives its p_a (score_a / score_b NULL: a
 *   preference model has no per-response score); judge.reward-model votes from it.
 * - `history` (aux): per epoch: epoch, step, loss, accuracy (logit > 0 on the labelled side, ties
 *   excluded), val_loss, val_accuracy, pairs_per_s.
 *
 * **Params**
 *
 * | param | default | what |
 * |---|---|---|
 * | features | hash | hash (embedding bag) or embedding (featurize.embed's vectors) |
 * | epochs, batchSize, lr, optimizer, schedule | 3, 256, 0.01, adam, constant | as train.reward-model |
 * | dim, hidden | 64, 64 | embedding width; hidden units of the MLP over [p; a; b] |
 * | labelSmoothing, ties | 0, skip | α; label 'tie': skip, or train toward p = 0.5 |
 * | validationFraction, patience, seed, backend | 0.1, 1, 1, auto | as train.reward-model |
 *
 * **Stats**: backend, backend_notes, params, pairs, skipped_unlabelled, skipped_ties, pairs_per_s,
 * epochs_run, best_epoch, stopped_early, val_accuracy, val_loss.
 *
 * **Example**
 * ```ts
 * const pm = p.node("pm", train.preferenceModel({ epochs: 3 }), { pairs: feats })
 * const scored = p.node("scored", train.score(), { model: pm, pairs: heldOutFeats }) // p_a
 * p.node("acc", evaluate.accuracy(), { pairs: scored })
 * ```
 */
export const preferenceModel = defineNode({
  kind: "train.preference-model",
  version: 1,
  summary: "Train a pairwise preference model P(a ≻ b | prompt) = σ(g(p,a,b) − g(p,b,a)) on labelled pairs",
  params: TrainParams,
  inputs: { pairs: trainPairsInput },
  outputs: {
    model: output("main", modelColumns, {
      doc: "one row per tensor: tensor, shape, data (LE float32 blob), config (head: preference)"
    }),
    history: historyOutput
  },
  views: curveViews,
  requires: [Trainer],
  run: ({ node, kind, params, inputs }) =>
    Effect.gen(function* () {
      const where = `node "${node}" (${kind})`
      const missing = missingFeatures(inputs.pairs, params.features, where)
      if (missing !== null) return yield* missing
      return yield* trainPairs(params, inputs.pairs, where, "preference")
    })
})
