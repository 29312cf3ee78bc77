/**
 * train.reward-model's listwise path (`loss: "plackett-luce"`, the PRO objective): the ranked lists of
 * each `rank_group` (lists.ts) trained with Plackett–Luce, Σ_{i<k−1} [logsumexp(s_i..s_k) − s_i] per
 * list, on the sparse trainer or tfjs. Validation holds out whole lists; its accuracy is listwise top-1
 * (the best-ranked response scores highest; chance is the mean of 1/k).
 */
import { Effect, Schema } from "effect"
import { DataError } from "../../workbench/core/errors.js"
import type { InputTable } from "../../workbench/core/node.js"
import { param } from "../../workbench/core/params.js"
import { Trainer, type TrainResult } from "../../workbench/core/trainer.js"
import { missingRankGroup, readLists } from "./lists.js"
import { modelConfig, reportTraining, type TrainParams, trainSpec } from "./params.js"

export const lossParam = param(
  Schema.Literals(["bradley-terry", "plackett-luce"]),
  "bradley-terry",
  "bradley-terry: per pair; plackett-luce: listwise over each rank_group's distinct responses, best first " +
    "(by rank_a / rank_b when present, else by wins within the group)"
)

/** Trains on the lists of `input`'s rank groups; the result and the node's stats. */
export const trainLists = (params: TrainParams, input: InputTable, where: string) =>
  Effect.gen(function* () {
    const noGroup = missingRankGroup(input, where)
    if (noGroup !== null) return yield* noGroup
    if (params.labelSmoothing > 0) {
      return yield* new DataError({
        where: `${where} param labelSmoothing`,
        found: `labelSmoothing ${params.labelSmoothing} with loss: "plackett-luce"`,
        expected: "0: the listwise loss has no per-pair target to smooth",
        fix: 'drop labelSmoothing, or use loss: "bradley-terry"'
      })
    }
    const data = yield* readLists(input, { features: params.features, where })
    if (data.stats.lists === 0) {
      return yield* new DataError({
        where: `${where} input pairs`,
        found: `no rank_group with two or more distinct responses (${data.stats.skipped_groups} groups of one, ${data.stats.skipped_no_group} rows with a NULL rank_group)`,
        expected: "ranked groups of at least two responses",
        fix: 'check the rank_group column, or use loss: "bradley-terry"'
      })
    }
    const trainer = yield* Trainer
    const report = yield* reportTraining()
    const r: TrainResult = yield* trainer.train(
      trainSpec(params, modelConfig(params, data), where),
      { lists: data.lists },
      report.onStep,
      report.onEpoch
    )
    const best = r.history[r.bestEpoch]
    const stats: Record<string, number | string> = {
      backend: r.backend,
      ...(r.notes.length > 0 ? { backend_notes: r.notes.join("; ") } : {}),
      loss: "plackett-luce",
      params: r.params,
      ...data.stats,
      lists_per_s: Math.round(r.pairsPerSec),
      epochs_run: r.history.length,
      best_epoch: r.bestEpoch,
      stopped_early: r.stoppedEarly ? 1 : 0,
      ...(best?.valAccuracy != null ? { val_top1: best.valAccuracy } : {}),
      ...(best?.valLoss != null ? { val_loss: best.valLoss } : {})
    }
    return { result: r, stats }
  })
