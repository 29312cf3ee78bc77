/**
 * `judge.aggregate` — votes (and ratings) → one label per pair.
 *
 * Each usable vote or rating is a judgment of one rater on one pair row. A rater's judgments of a row
 * (n samples, both orders) collapse into one vote: samples by majority (mean p_a); a rater that saw
 * both orders ('ab' and 'ba' in the votes' `order`) and gave different verdicts is position-
 * inconsistent, and its vote is a tie (`inconsistent: "tie"`, p 0.5), dropped, or its 'ab' verdict
 * (`keep-first`). Ratings become a rater's vote through the aspect weights: each side's score is a
 * weighted mean of its aspects (UltraFeedback's mean of the aspects by default, or one aspect), scaled
 * to 0-1 by scale_min / scale_max, and the side scoring higher wins (a tie within `epsilon`). Then the
 * raters' votes of a row give its label by `rule`:
 * - `majority`: most votes of a / b / tie; a tie when no side has most;
 * - `mean-p`: the mean p_a (1 / 0 / 0.5 for hard votes), a above 0.5 + ε/2, b below 0.5 − ε/2;
 * - `mean`, `worst-case`, `uncertainty`: reward-ensemble aggregates (Coste et al., *Reward Model
 *   Ensembles Help Mitigate Overoptimization*) of each side's scores over the raters — their mean,
 *   their minimum, or mean − λ·variance — and the label by the sign of aggregate(a) − aggregate(b)
 *   (a tie within ε). A vote scores its sides (p, 1 − p), so its margin is 2·p − 1; `mean` over votes
 *   is `mean-p`, and `worst-case` calls a pair only when every rater leans the same way.
 *
 * Labels go on the pairs themselves (no separate labels table), so export and the other families read
 * them as any label: a row with at least `minVotes` counted votes gets the new label and label_source
 * ('human' when every counted rater is human, 'ai' when none is, 'mixed', NULL when a rater's kind is
 * unknown); other rows keep theirs (`unvoted: "keep"`) or lose it (`"null"`). A vote counts for the
 * pair row it names by source_row (column or meta.source_row), else for every row with its pair_id
 * (identical pairs before dedupe keep their own votes).
 *
 * **Input columns**
 * - `pairs`: pair_id; optional label, label_source, source_row (any others pass through).
 * - `votes` (optional, many): pair_id, rater, vote ('a' | 'b' | 'tie'); optional rater_kind, p_a,
 *   order ('ab' | 'ba'), sample, meta / source_row. A vote that is none of a / b / tie takes its side
 *   from p_a; without p_a it is not counted (`votes_unusable`).
 * - `ratings` (optional, many): pair_id, side ('a' | 'b'), rater, aspect, score; optional rater_kind,
 *   scale_min, scale_max, meta / source_row.
 *
 * **Output columns**
 * - `pairs` (main): the input's columns, in input order, with label and label_source as above, plus
 *   n_votes (raters counted), agreement (share of them voting the label), p_a_mean, margin_mean and
 *   margin_std (over the raters' margins 2·p − 1 or s_a − s_b; std is the population std, 0 for one
 *   rater), n_inconsistent (raters inconsistent across orders), label_margin (the rule's margin;
 *   majority: (votes a − votes b) / n_votes). Rows without votes: n_votes 0, the rest NULL.
 * - `votes` (aux): one collapsed vote per pair row × rater: pair_id, rater, rater_kind, vote, p_a,
 *   order and sample (NULL: merged), meta {source_row, judgments, orders, from}, margin,
 *   position_consistent (NULL unless both orders).
 *   Feed it to strength.filter and mix.route.
 *
 * **Params**: rule ("majority"), lambda (1), epsilon (0), raters (null: all), raterKinds (null: all),
 * inconsistent ("tie"), aspects ("mean"; or weights such as {helpfulness: 2, honesty: 1}, or
 * {truthfulness: 1} for one aspect), normalize (true), minVotes (1), unvoted ("keep").
 *
 * **Stats**: pairs, pairs_voted, relabelled (label differs from the input's), label_a, label_b,
 * label_tie, votes_in, votes_unmatched (pair_id on no row), votes_filtered (raters / raterKinds),
 * votes_unusable, ratings_in, ratings_unmatched, judgments, raters, inconsistent (pair × rater).
 *
 * **Example**
 * ```ts
 * const ai = p.node("ai", judge.aggregate({ rule: "majority", raterKinds: ["ai"] }), {
 *   pairs: panda, votes: [panda.votes, longer.votes]
 * })
 * const uf = p.node("uf", judge.aggregate({ aspects: { helpfulness: 1 } }), { pairs: ufPairs, ratings: ufPairs.ratings })
 * ```
 */
import { Effect, Schema } from "effect"
import { input, output, outputLike, type TableSchema } from "../../workbench/core/contract.js"
import { DataError } from "../../workbench/core/errors.js"
import { defineNode } from "../../workbench/core/node.js"
import { param } from "../../workbench/core/params.js"
import { Sql } from "../../workbench/core/services.js"
import { voteColumns } from "../lib/pair-tables.js"
import { aggregateViews } from "./tables.js"
import { hasColumn, votesOnRowsSql } from "../lib/vote-rows.js"
import {
  AGGREGATE_COLUMNS,
  type AggregatePlan,
  collapsedVotesSql,
  collapseSql,
  labelledPairsSql,
  labelStatsSql,
  ratingJudgmentsSql,
  rowLabelsSql,
  voteCountsSql,
  voteJudgmentsSql
} from "./aggregate-plan.js"

const NonNegative = Schema.Number.check(Schema.isGreaterThanOrEqualTo(0))
const Weights = Schema.Record(Schema.String, NonNegative).check(
  Schema.makeFilter(
    (w: Readonly<Record<string, number>>) =>
      Object.values(w).some((x) => x > 0) || "aspect weights with at least one above 0 (e.g. {helpfulness: 1})"
  )
)

export const AggregateParams = Schema.Struct({
  rule: param(
    Schema.Literals(["majority", "mean-p", "mean", "worst-case", "uncertainty"]),
    "majority",
    "how raters' votes make a label: majority, mean-p (mean p_a), or the reward-ensemble mean, worst-case (min), uncertainty (mean − lambda·variance) of side scores"
  ),
  lambda: param(NonNegative, 1, "rule uncertainty: the weight of the variance subtracted from each side's mean score"),
  epsilon: param(NonNegative, 0, "a margin within ±epsilon is a tie (rules other than majority, and ratings → votes)"),
  raters: param(Schema.NullOr(Schema.Array(Schema.String)), null, "count only these raters (null: all)"),
  raterKinds: param(
    Schema.NullOr(Schema.Array(Schema.String)),
    null,
    'count only raters of these kinds, e.g. ["ai"] (null: all; needs a rater_kind column)'
  ),
  inconsistent: param(
    Schema.Literals(["tie", "drop", "keep-first"]),
    "tie",
    "a rater whose verdicts differ between the two orders: its vote is a tie, dropped, or its 'ab' verdict"
  ),
  aspects: param(
    Schema.Union([Schema.Literal("mean"), Weights]),
    "mean",
    'ratings → a side score: "mean" (of the aspects but overall; overall alone if that is all), or weights by aspect ({honesty: 1} for one aspect)'
  ),
  normalize: param(Schema.Boolean, true, "scale rating scores to 0-1 by scale_min / scale_max where both are given"),
  minVotes: param(Schema.Int.check(Schema.isGreaterThan(0)), 1, "votes a pair row needs for a new label"),
  unvoted: param(
    Schema.Literals(["keep", "null"]),
    "keep",
    "rows with fewer than minVotes votes: keep their label and label_source, or set them NULL"
  )
})
export type AggregateParams = typeof AggregateParams.Type

const extra = { rater_kind: "utf8", meta: "json", source_row: "int64" } as const

/** The definition problems aggregate can tell from its inputs' columns (at graph build and at run). */
function inputProblem(
  at: string,
  params: AggregateParams,
  votes: TableSchema | undefined,
  ratings: TableSchema | undefined
): DataError | undefined {
  if (votes === undefined && ratings === undefined) {
    return new DataError({
      where: at,
      found: "neither votes nor ratings are connected",
      expected: "votes (pair_id, rater, vote) or ratings (pair_id, side, rater, aspect, score) to aggregate",
      fix: "connect votes: { pairs: x, votes: x.votes }, or ratings: { pairs: x, ratings: x.ratings }"
    })
  }
  const noKind = [votes, ratings].find((t) => t !== undefined && !t.open && !hasColumn(t, "rater_kind"))
  if (params.raterKinds !== null && noKind !== undefined) {
    return new DataError({
      where: `${at} param raterKinds`,
      found: `raterKinds ${JSON.stringify(params.raterKinds)}, but an input has no rater_kind column`,
      expected: "votes and ratings with a rater_kind column to filter on",
      fix: "filter by raters (names) instead, or add rater_kind upstream"
    })
  }
  return undefined
}

export const aggregate = defineNode({
  kind: "judge.aggregate",
  version: 1,
  summary:
    "Votes and ratings → one label per pair: majority, mean p_a, reward-ensemble mean / worst-case / uncertainty",
  params: AggregateParams,
  inputs: {
    pairs: input(
      { pair_id: "utf8" },
      { optional: { label: "utf8", label_source: "utf8", source_row: "int64" }, doc: "the pairs to label" }
    ),
    votes: input(
      { pair_id: "utf8", rater: "utf8", vote: "utf8" },
      {
        optional: { ...extra, p_a: "float64", order: "utf8", sample: "int64" },
        optionalInput: true,
        many: true,
        doc: "votes: a / b / tie, optional p_a and order ('ab' | 'ba')"
      }
    ),
    ratings: input(
      { pair_id: "utf8", side: "utf8", rater: "utf8", aspect: "utf8", score: "float64" },
      {
        optional: { ...extra, scale_min: "float64", scale_max: "float64" },
        optionalInput: true,
        many: true,
        doc: "absolute ratings per side and aspect, turned into votes by the aspect weights"
      }
    )
  },
  outputs: {
    pairs: outputLike("main", "pairs", {
      add: { label: "utf8", label_source: "utf8", ...AGGREGATE_COLUMNS },
      doc: "the pairs with the aggregated label and n_votes, agreement, p_a_mean, margin_mean, margin_std"
    }),
    votes: output(
      "aux",
      { ...voteColumns, margin: "float64", position_consistent: "bool" },
      { doc: "one collapsed vote per pair row x rater (samples and orders merged, ratings as votes)" }
    )
  },
  views: aggregateViews,
  inferOutputs: ({ node, kind, params, inputs }) => {
    const problem = inputProblem(`node "${node}" (${kind})`, params, inputs["votes"], inputs["ratings"])
    return problem === undefined ? Effect.succeed({}) : Effect.fail(problem)
  },
  run: ({ node, kind, params, inputs }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const { pairs, votes, ratings } = inputs
      const problem = inputProblem(`node "${node}" (${kind})`, params, votes?.schema, ratings?.schema)
      if (problem !== undefined) return yield* problem
      const plan: AggregatePlan = params
      const stats: Record<string, number> = { pairs: pairs.rows }
      const parts: Array<string> = []
      for (const [name, table] of [
        ["votes", votes],
        ["ratings", ratings]
      ] as const) {
        if (table === undefined) continue
        const attached = yield* sql.create(`aggregate_${name}_rows`, votesOnRowsSql(pairs, table))
        const judged = yield* sql.create(
          `aggregate_${name}_judged`,
          name === "votes"
            ? voteJudgmentsSql(plan, attached, table.schema)
            : ratingJudgmentsSql(plan, attached, table.schema)
        )
        parts.push(`SELECT * FROM ${judged}`)
        const [c] = yield* sql.rows<{ matched: number; kept: number; usable: number }>(
          name === "votes"
            ? voteCountsSql(plan, attached, table.schema)
            : `SELECT count(DISTINCT _wb_vote)::INTEGER AS matched FROM ${attached}`
        )
        stats[`${name}_in`] = table.rows
        stats[`${name}_unmatched`] = table.rows - c!.matched
        if (name === "votes") {
          stats["votes_filtered"] = c!.matched - c!.kept
          stats["votes_unusable"] = c!.kept - c!.usable
        }
        stats[`judgments_from_${name}`] = yield* sql.count(judged)
      }
      const judgments = yield* sql.create("aggregate_judgments", parts.join(" UNION ALL "))
      const collapsed = yield* sql.create("aggregate_collapsed", collapseSql(plan, judgments))
      const labels = yield* sql.create("aggregate_labels", rowLabelsSql(plan, collapsed))
      const out = yield* sql.create("aggregate_pairs", labelledPairsSql(plan, pairs.numbered, pairs.schema, labels))
      const votesOut = yield* sql.create("aggregate_votes", collapsedVotesSql(pairs.numbered, pairs.schema, collapsed))
      const [s] = yield* sql.rows<Record<string, number>>(labelStatsSql(plan, pairs.numbered, pairs.schema, labels))
      const [r] = yield* sql.rows<{ raters: number; inconsistent: number }>(
        `SELECT count(DISTINCT rater)::INTEGER AS raters, count(*) FILTER (WHERE consistent = false)::INTEGER AS inconsistent FROM ${collapsed}`
      )
      Object.assign(stats, s!, r!, { judgments: yield* sql.count(judgments) })
      return { tables: { pairs: out, votes: votesOut }, stats }
    })
})
