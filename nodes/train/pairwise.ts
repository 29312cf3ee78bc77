/**
 * The pairwise training run train.reward-model and train.preference-model share: read the labelled
 * pairs, train on the Trainer (per-step and per-epoch metrics to the progress stream), and write the
 * model and its history as tables. The two differ only in the model's head.
 */
import { Effect } from "effect"
import type { InputTable } from "../../workbench/core/node.js"
import { type ModelConfig, Trainer } from "../../workbench/core/trainer.js"
import { readPairs } from "./data.js"
import { writeModels } from "./model-table.js"
import { modelConfig, reportTraining, type TrainParams, trainSpec, trainStats } from "./params.js"
import { writeHistory } from "./reward-model.js"

export const trainPairs = (
  params: TrainParams,
  pairs: InputTable,
  where: string,
  head: NonNullable<ModelConfig["head"]>
) =>
  Effect.gen(function* () {
    const data = yield* readPairs(pairs, {
      features: params.features,
      mode: "train",
      ties: params.ties,
      labelSmoothing: params.labelSmoothing,
      where
    })
    const trainer = yield* Trainer
    const report = yield* reportTraining()
    const base = modelConfig(params, data)
    // a reward model's config carries no head, so models written before heads existed stay byte-equal
    const config: ModelConfig = head === "reward" ? base : { ...base, head }
    const r = yield* trainer.train(
      trainSpec(params, config, where),
      { pairs: data.pairs },
      report.onStep,
      report.onEpoch
    )
    const meta = { backend: r.backend, seed: params.seed, best_epoch: r.bestEpoch }
    const model = yield* writeModels("model", [{ model: r.model, meta }], false)
    const history = yield* writeHistory([r.history], false)
    return { tables: { model, history }, stats: trainStats(r, data) }
  })
