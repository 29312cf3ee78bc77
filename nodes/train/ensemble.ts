import { Effect, Schema } from "effect"
import { output } from "../../workbench/core/contract.js"
import { defineNode } from "../../workbench/core/node.js"
import { param } from "../../workbench/core/params.js"
import { Sql } from "../../workbench/core/services.js"
import { type PairSet, Trainer, type TrainResult } from "../../workbench/core/trainer.js"
import { raterColumns } from "../lib/pair-tables.js"
import { readPairs } from "./data.js"
import { ratersTableSql, rewardVoteColumns, votesSql, writeVotes } from "./judge-reward.js"
import { membersColumns, writeModels } from "./model-table.js"
import { missingFeatures, modelConfig, reportTraining, TrainFields, trainPairsInput, trainSpec } from "./params.js"
import { historyColumns, writeHistory } from "./reward-model.js"
import { scorePairsInput, scoreWithModels } from "./score.js"

export const EnsembleParams = Schema.Struct({
  ...TrainFields,
  members: param(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 64 })), 5, "K: reward models trained"),
  sampling: param(
    Schema.Literals(["seeds", "bootstrap"]),
    "seeds",
    "seeds: every member sees all pairs, seeds seed, seed+1, …; bootstrap: each also draws its pairs with replacement"
  )
})
export type EnsembleParams = typeof EnsembleParams.Type

/** Mulberry32, for the bootstrap draws (member k: seed + 1000·(k+1)). */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A bootstrap sample of the pairs (texts shared, pair arrays redrawn). */
export function bootstrap(p: PairSet, seed: number): PairSet {
  const r = rng(seed),
    n = p.prompt.length
  const idx = Int32Array.from({ length: n }, () => Math.floor(r() * n))
  const take = <T extends Int32Array | Float32Array | Uint8Array>(a: T): T => a.map((_, i) => a[idx[i]!]!) as T
  return {
    texts: p.texts,
    prompt: take(p.prompt),
    chosen: take(p.chosen),
    rejected: take(p.rejected),
    smoothing: take(p.smoothing),
    margin: take(p.margin),
    weight: take(p.weight),
    tie: take(p.tie)
  }
}

/**
 * `train.ensemble` — K reward models (different seeds, or bootstrap samples too) and every member's
 * vote on the pairs: *Secrets of RLHF II*'s preference strength is the mean and spread of the
 * members' score differences, which strength.filter computes from these votes' `margin`.
 *
 * **Input columns**: `pairs`: as train.reward-model (labelled, featurized); `score` (optional): the
 * pairs to vote on (featurized alike); absent: the training pairs themselves.
 *
 * **Output columns**
 * - `models` (main): member, tensor, shape, data, config (each member as train.reward-model's `model`).
 * - `votes`: one per pair and member, as judge.reward-model's (rater `reward-model:<node>#<member>`,
 *   margin = score_a − score_b).
 * - `raters`: one row per member. `history`: member plus train.reward-model's history columns.
 *
 * **Params**: train.reward-model's, plus members (5), sampling (seeds).
 *
 * **Stats**: members, backend, params (per member), pairs, votes, pairs_per_s (mean), val_accuracy_mean.
 *
 * **Example**
 * ```ts
 * const ens = p.node("ens", train.ensemble({ members: 5 }), { pairs: feats })
 * const strong = p.node("strong", strength.filter({ drop: { below: 0 } }), { pairs: feats, votes: ens.votes })
 * ```
 */
export const ensemble = defineNode({
  kind: "train.ensemble",
  version: 1,
  summary: "K reward models (seeds / bootstrap) and each member's votes on the pairs, for strength.filter",
  params: EnsembleParams,
  inputs: {
    pairs: trainPairsInput,
    score: { ...scorePairsInput, optionalInput: true as const }
  },
  outputs: {
    models: output("main", membersColumns, { doc: "every member's tensors, with its member index" }),
    votes: output("aux", rewardVoteColumns, { doc: "one vote per pair and member" }),
    raters: output("aux", raterColumns, { doc: "one row per member" }),
    history: output("aux", { member: "int64", ...historyColumns }, { doc: "per member and epoch" })
  },
  requires: [Trainer],
  run: ({ node, kind, params, inputs }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const where = `node "${node}" (${kind})`
      const missing = missingFeatures(inputs.pairs, params.features, where)
      if (missing !== null) return yield* missing
      const data = yield* readPairs(inputs.pairs, { ...params, mode: "train", where })
      const trainer = yield* Trainer
      const config = modelConfig(params, data)
      const runs: TrainResult[] = []
      for (let k = 0; k < params.members; k++) {
        const pairs = params.sampling === "bootstrap" ? bootstrap(data.pairs, params.seed + 1000 * (k + 1)) : data.pairs
        const report = yield* reportTraining({ index: k, count: params.members })
        const spec = trainSpec(params, config, where, params.seed + k)
        runs.push(yield* trainer.train(spec, { pairs }, report.onStep, report.onEpoch))
      }
      const models = yield* writeModels(
        "models",
        runs.map((r, k) => ({
          model: r.model,
          meta: { backend: r.backend, seed: params.seed + k, member: k, best_epoch: r.bestEpoch }
        })),
        true
      )
      const history = yield* writeHistory(
        runs.map((r) => r.history),
        true
      )
      const target = inputs.score ?? inputs.pairs
      const s = yield* scoreWithModels(
        {
          relation: models,
          numbered: models,
          schema: { columns: [{ name: "member", type: "int64" }], open: true },
          rows: 0
        },
        target,
        params.backend,
        where
      )
      const names = runs.map((_, k) => `reward-model:${node}#${k}`)
      const attrs = runs.map((r, k) => ({
        member: k,
        seed: params.seed + k,
        sampling: params.sampling,
        backend: r.backend
      }))
      const w = yield* writeVotes(s, names, attrs)
      const sourceRow = target.schema.columns.some((c) => c.name === "source_row")
      const votes = yield* sql.create("votes", votesSql(w.scores, w.names, target.numbered, sourceRow))
      const raters = yield* sql.create("raters", ratersTableSql(names, attrs))
      const vals = runs
        .map((r) => r.history[r.bestEpoch]?.valAccuracy)
        .filter((v): v is number => typeof v === "number")
      return {
        tables: { models, votes, raters, history },
        stats: {
          members: params.members,
          backend: runs[0]!.backend,
          params: runs[0]!.params,
          pairs: data.pairs.prompt.length,
          votes: yield* sql.count(votes),
          pairs_per_s: Math.round(runs.reduce((t, r) => t + r.pairsPerSec, 0) / runs.length),
          ...(vals.length > 0 ? { val_accuracy_mean: vals.reduce((a, b) => a + b, 0) / vals.length } : {})
        }
      }
    })
})
