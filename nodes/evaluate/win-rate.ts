/**
 * `evaluate.winRate` — AlpacaEval's leaderboard numbers from judged votes: per model (the generator of
 * the evaluated side, `modelSide`, against the baseline on the other side), over the votes of each
 * slice:
 * - win_rate = 100 · mean(P(model wins)), with P = 1 − p_a for side b (AlpacaEval's preference − 1;
 *   a vote without p_a counts 1 / 0 / 0.5 for win / loss / tie); standard_error = 100 · sample sd / √n;
 *   wins / losses / draws: P above / below / at 0.5; discrete_win_rate = 100 · (wins + draws / 2) / n;
 * - lc_win_rate: the length-controlled win rate, AlpacaEval's GLM on tanh of the standardised length
 *   difference with a per-instruction difficulty fitted jointly over the models of the slice, predicted
 *   with the length term at 0 (see lc-glm.ts for the fit and how it differs from AlpacaEval's).
 * The model of a vote is `model` looked up on the vote, its meta, its rater's row, then its pair.
 *
 * **Input columns**
 * - `votes` (many): pair_id, rater; p_a and/or vote; optional meta (load.alpacaEval keeps each record's
 *   generators there), rater_kind, order, source_row.
 * - `pairs`: pair_id, prompt, response_a, response_b (the instruction and both outputs: lengths).
 * - `raters` (optional, many): rater, attributes — for slicing by rater attributes.
 *
 * **Output columns**
 * - `per_model` (main): slice_by, slice, model, n, win_rate, standard_error, wins, losses, draws,
 *   discrete_win_rate, lc_win_rate, lc_length_coef (φ), lc_difficulty_coef (ψ), avg_length (characters
 *   of the model's outputs); per slice, best win rate first.
 *
 * **Params**: model ("generator_b"), modelSide ("b"), raters (null: all), by ([]), lc (true),
 * difficultyL2 (1), l2 (0.0001).
 *
 * **Stats**: votes_in, votes_used, no_preference (votes with neither p_a nor a/b/tie), no_model, models,
 * slices, lc_iterations (Newton steps of the joint fit over all votes).
 *
 * **Example**
 * ```ts
 * const ae = p.node("ae", load.alpacaEval({ path: "data/alpaca-eval-2-weighted" }))
 * p.node("leaderboard", evaluate.winRate(), { votes: ae.votes, pairs: ae })
 * ```
 */
import { Effect, Schema } from "effect"
import { input, output } from "../../workbench/core/contract.js"
import { DataError } from "../../workbench/core/errors.js"
import { defineNode } from "../../workbench/core/node.js"
import { param } from "../../workbench/core/params.js"
import { Progress, Sql } from "../../workbench/core/services.js"
import { columnOr, sqlText } from "../lib/vote-rows.js"
import { ByParam, byList, columnSql, loadRows, noColumnError, sliceColumnsSql } from "./columns.js"
import { PER_MODEL_COLUMNS, type PerModelRow, perModel } from "./win-rate-core.js"
import { slicesOf } from "./stats.js"
import { ratersIn, voteSources, votesIn, votesJoinedSql } from "./votes-join.js"
import { winRateViews } from "./views.js"

export const WinRateParams = Schema.Struct({
  model: param(
    Schema.String,
    "generator_b",
    "column naming the evaluated model (vote, meta.<key>, rater or pair column)"
  ),
  modelSide: param(
    Schema.Literals(["a", "b"]),
    "b",
    "the side the evaluated model's output is on (AlpacaEval: b, output_2)"
  ),
  raters: param(Schema.NullOr(Schema.Array(Schema.String)), null, "count only these raters' votes (null: all)"),
  by: ByParam,
  lc: param(Schema.Boolean, true, "fit the length-controlled win rate (lc_win_rate)"),
  difficultyL2: param(
    Schema.Number.check(Schema.isGreaterThan(0)),
    1,
    "L2 penalty on the per-instruction difficulty of the LC fit (pins its level against the model terms)"
  ),
  l2: param(Schema.Number.check(Schema.isGreaterThanOrEqualTo(0)), 0.0001, "L2 penalty on the LC model coefficients")
})
export type WinRateParams = typeof WinRateParams.Type

interface ItemRow {
  readonly model: string | null
  readonly y: number | null
  readonly instruction: string
  readonly len_model: number
  readonly len_base: number
  readonly [by: `_by${number}`]: string
}

export const winRate = defineNode({
  kind: "evaluate.win-rate",
  version: 1,
  summary: "AlpacaEval win rate per model (SE, wins / losses / draws, discrete) and length-controlled win rate",
  params: WinRateParams,
  inputs: {
    votes: votesIn("judged votes: p_a (or vote) of each comparison of a model's output with the baseline's"),
    pairs: input(
      { pair_id: "utf8", prompt: "utf8", response_a: "utf8", response_b: "utf8" },
      { doc: "the judged pairs: instruction and both outputs (for lengths and the per-instruction term)" }
    ),
    raters: ratersIn()
  },
  outputs: {
    per_model: output("main", PER_MODEL_COLUMNS, {
      doc: "per slice and model: win rate, SE, W/L/D, discrete and LC win rate"
    })
  },
  views: winRateViews,
  run: ({ node, kind, params, inputs }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const { votes, pairs, raters } = inputs
      const sources = voteSources(votes, pairs, raters)
      const at = (p: string) => `node "${node}" (${kind}) param ${p}`
      const model = columnSql(params.model, sources)
      if (model === undefined) return yield* noColumnError(at("model"), params.model, sources)
      const by = byList(params.by)
      const slices = sliceColumnsSql(by, sources, at("by"))
      if (slices instanceof DataError) return yield* slices
      const pA = columnOr(votes.schema, "v", "p_a", "float64")
      const vote = `lower(trim(${columnOr(votes.schema, "v", "vote", "utf8")}))`
      const pa = `coalesce(${pA}, CASE ${vote} WHEN 'a' THEN 1.0 WHEN 'b' THEN 0.0 WHEN 'tie' THEN 0.5 END)`
      const [mine, other] = params.modelSide === "b" ? ["response_b", "response_a"] : ["response_a", "response_b"]
      const where = params.raters === null ? "TRUE" : `v.rater IN (${params.raters.map(sqlText).join(", ") || "NULL"})`
      const rows = yield* sql.rows<ItemRow>(
        votesJoinedSql(
          [
            `(${model}) AS model`,
            `${params.modelSide === "b" ? `1 - ${pa}` : pa} AS y`,
            "p.prompt AS instruction",
            `length(p.${mine}) AS len_model`,
            `length(p.${other}) AS len_base`,
            ...slices
          ].join(", "),
          votes,
          pairs,
          raters,
          where
        )
      )
      const used = rows.filter((r) => r.y !== null && r.model !== null)
      const items = {
        model: used.map((r) => r.model!),
        y: used.map((r) => Number(r.y)),
        instruction: used.map((r) => r.instruction),
        modelLength: used.map((r) => Number(r.len_model)),
        baselineLength: used.map((r) => Number(r.len_base))
      }
      const keys = by.map((_, d) => used.map((r) => r[`_by${d}`] ?? "(null)"))
      const out: Array<PerModelRow> = []
      let iterations = 0
      for (const slice of slicesOf(used.length, by, keys)) {
        const r = perModel(items, slice, params)
        if (slice.by === "(all)") iterations = r.iterations
        out.push(...r.rows)
      }
      const perModelTable = yield* loadRows("per_model", PER_MODEL_COLUMNS, out)
      const models = new Set(items.model).size
      yield* (yield* Progress).note(`${used.length.toLocaleString("en-US")} judged comparisons of ${models} models`)
      return {
        tables: { per_model: perModelTable },
        stats: {
          votes_in: votes.rows,
          votes_used: used.length,
          no_preference: rows.filter((r) => r.y === null).length,
          no_model: rows.filter((r) => r.y !== null && r.model === null).length,
          models,
          slices: new Set(out.map((r) => `${r.slice_by}\u0000${r.slice}`)).size,
          lc_iterations: iterations
        }
      }
    })
})
