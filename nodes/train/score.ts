import { Effect, Schema } from "effect"
import { input, outputLike } from "../../workbench/core/contract.js"
import { DataError } from "../../workbench/core/errors.js"
import { defineNode, type InputTable } from "../../workbench/core/node.js"
import { Sql } from "../../workbench/core/services.js"
import { type Model, type TrainBackend, Trainer } from "../../workbench/core/trainer.js"
import { readPairs } from "./data.js"
import { readModels } from "./model-table.js"
import { backendParam, missingFeatures, pairOptionalColumns } from "./params.js"

export const modelInput = (doc: string) =>
  input({ tensor: "utf8", shape: "json", data: "blob", config: "json" }, { optional: { member: "int64" }, doc })

export const scorePairsInput = input(
  { pair_id: "utf8" },
  { optional: pairOptionalColumns, doc: "pairs featurized like the model's training pairs" }
)

const σ = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)))

export interface Scored {
  /** `_wb_row` of each pair, in input order. */
  readonly rows: Float64Array
  /**
   * Per model: the scores of response a and b; for a preference model (`preference`) g(p, a, b) and
   * g(p, b, a), which mean nothing alone: only a − b (logit P(a ≻ b)) is used.
   */
  readonly scores: ReadonlyArray<{ readonly a: Float32Array; readonly b: Float32Array; readonly preference: boolean }>
  readonly backend: string
}

/** Reads the models and scores every pair of `pairs` with each, checking the features match. */
export const scoreWithModels = (modelTable: InputTable, pairs: InputTable, backend: TrainBackend, where: string) =>
  Effect.gen(function* () {
    const models: Model[] = yield* readModels(
      modelTable.relation,
      modelTable.schema.columns.some((c) => c.name === "member"),
      where
    )
    const features = models[0]!.config.input === "bag" ? "hash" : "embedding"
    const missing = missingFeatures(pairs, features, where)
    if (missing !== null) return yield* missing
    const data = yield* readPairs(pairs, { features, mode: "score", ties: "half", labelSmoothing: 0, where })
    const want = JSON.stringify(models[0]!.config.features)
    const got = JSON.stringify(features === "hash" ? data.hashConfig : { embedding: data.dim })
    if (data.pairs.prompt.length > 0 && want !== got) {
      return yield* new DataError({
        where: `${where} input pairs`,
        found: `features ${got}`,
        expected: `the model's features ${want}: ids or vectors made another way mean nothing to it`,
        fix: "featurize these pairs with the same settings as the model's training pairs"
      })
    }
    const trainer = yield* Trainer
    const scores: Array<{ a: Float32Array; b: Float32Array; preference: boolean }> = []
    let used = ""
    for (const m of models) {
      const s = yield* trainer.score(m, data.pairs, backend, where)
      scores.push({ a: s.chosen, b: s.rejected, preference: m.config.head === "preference" })
      used = s.backend
    }
    return { rows: data.rows, scores, backend: used } satisfies Scored
  })

/** p_a = σ(score_a − score_b) (a preference model: σ(g(p, a, b) − g(p, b, a))). */
export const pA = (a: number, b: number) => σ(a - b)

/**
 * `train.score` — applies a reward model to pairs: `score_a`, `score_b` and `p_a` = σ(score_a − score_b),
 * the Bradley–Terry probability that a is preferred. A preference model (train.preference-model) has no
 * per-response score: score_a and score_b are NULL and p_a = σ(g(p, a, b) − g(p, b, a)) (evaluate.accuracy
 * and evaluate.calibration then read p_a).
 *
 * **Input columns**: `model`: a model table (train.reward-model's or train.preference-model's `model`; an ensemble's `models` is
 * scored by its first member — use judge.reward-model for all members); `pairs`: pair_id and the
 * feature columns the model was trained on (featurize.hash's, with the same hash_config).
 *
 * **Output columns**: `pairs` (main): the input rows in input order, plus score_a, score_b, p_a (float64;
 * scores NULL for a preference model).
 *
 * **Params**: backend (auto: the sparse scorer).
 *
 * **Stats**: pairs, backend, mean_p_a, head (reward | preference).
 *
 * **Example**
 * ```ts
 * const scored = p.node("scored", train.score(), { model: rm, pairs: heldOut })
 * ```
 */
export const score = defineNode({
  kind: "train.score",
  version: 1,
  summary: "Score pairs with a reward model: score_a, score_b, p_a = σ(score_a − score_b)",
  params: Schema.Struct({ backend: backendParam }),
  inputs: { model: modelInput("the model to apply"), pairs: scorePairsInput },
  outputs: {
    pairs: outputLike("main", "pairs", {
      add: { score_a: "float64", score_b: "float64", p_a: "float64" },
      doc: "the pairs with the model's scores of each side and p_a = σ(score_a − score_b)"
    })
  },
  requires: [Trainer],
  run: ({ node, kind, params, inputs }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const s = yield* scoreWithModels(inputs.model, inputs.pairs, params.backend, `node "${node}" (${kind})`)
      const { a, b, preference } = s.scores[0]!
      const nulls = preference ? Array.from({ length: a.length }, () => null) : null
      const table = sql.tempName("scores")
      yield* sql.load(
        table,
        [
          { name: "_wb_row", type: "int64" },
          { name: "score_a", type: "float64" },
          { name: "score_b", type: "float64" },
          { name: "p_a", type: "float64" }
        ],
        [s.rows, nulls ?? a, nulls ?? b, Float64Array.from(a, (x, i) => pA(x, b[i]!))]
      )
      const drop = ["score_a", "score_b", "p_a"].filter((c) => inputs.pairs.schema.columns.some((x) => x.name === c))
      const pairs = yield* sql.create(
        "pairs",
        `SELECT p.* EXCLUDE (_wb_row${drop.map((c) => `, ${c}`).join("")}), s.score_a, s.score_b, s.p_a
         FROM ${inputs.pairs.numbered} p JOIN ${table} s USING (_wb_row) ORDER BY p._wb_row`
      )
      let sum = 0
      for (let i = 0; i < a.length; i++) sum += pA(a[i]!, b[i]!)
      return {
        tables: { pairs },
        stats: {
          pairs: a.length,
          backend: s.backend,
          mean_p_a: a.length > 0 ? sum / a.length : 0,
          head: preference ? "preference" : "reward"
        }
      }
    })
})
