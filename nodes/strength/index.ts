/**
 * Strength family — *Secrets of RLHF in Large Language Models Part II: Reward Modeling* (Wang et al.
 * 2024): measure how strongly an ensemble of judges or reward models agrees with each pair's label,
 * then drop, flip, soften or weight pairs by it.
 *
 * `strength.filter` — per pair row, the mean and std of its votes' preference margins: a vote's
 * `margin` column (judge.aggregate's collapsed votes; a reward difference), else 2·p_a − 1 (a judge's
 * probability), else +1 / −1 / 0 for a hard a / b / tie. `strength` is that mean oriented towards the
 * row's label (+ for 'a', − for 'b'): near 1, every rater agrees with the label; below 0, the ensemble
 * prefers the other side (a likely mislabel). Ties, unlabelled rows and rows with fewer than
 * `minVotes` votes have no strength, and are kept as they are. Then, in this order:
 * 1. `flipBelow`: rows with strength below it (strongly negative) get the other label (`flipped`
 *    true, strength negated);
 * 2. `drop`: rows whose strength (after the flip) is below `{below}`, or the `{fraction}` of rows
 *    with a strength that are weakest (ties by input order), go to `dropped` with the reason;
 * 3. every row gets `label_weight` = 1 − smoothing·(1 − s)/2, with s the strength clamped to −1..1
 *    (0 when none): the label-smoothing target for a soft loss; and `margin` = marginScale·max(s, 0)
 *    with s unclamped (0 when none): an adaptive margin for reward-model training (export.trl writes
 *    it; TRL's RewardTrainer reads `margin`).
 * Rows in = kept + dropped, and the flips are counted, always: the node checks it and fails loudly
 * otherwise. A vote counts for the pair row it names by source_row (column or meta.source_row), else
 * for every row with its pair_id.
 *
 * **Input columns**
 * - `pairs`: pair_id, label; optional source_row (any others pass through).
 * - `votes` (many): pair_id, rater, vote; optional margin, p_a, meta / source_row. One vote per rater
 *   and pair is meant (judge.aggregate's `votes`): raw votes of n samples count n times.
 *
 * **Output columns**
 * - `pairs` (main): the kept rows, in input order, label flipped where `flipped`, plus strength,
 *   strength_std (population std of the margins), strength_votes, strength_action ('kept' | 'flipped'
 *   | 'no-label' | 'no-votes'), flipped, label_weight, margin.
 * - `dropped` (removed): the dropped rows, same columns (strength_action 'dropped'), plus reason.
 * - `strength_report` (aux): the histogram of strength before the flip: bin, bin_lo, bin_hi, action
 *   ('kept' | 'flipped' | 'dropped'; every bin of each, zeros included), pairs; then one row each for
 *   'no-votes' and 'no-label' (bin NULL). For the workbench's strength view.
 *
 * **Params**: drop (null; or {below: 0} or {fraction: 0.1}), flipBelow (null; e.g. −0.5), smoothing
 * (0.1), marginScale (1), minVotes (1), bins (20).
 *
 * **Stats**: rows_in, kept, dropped, flipped, no_votes, no_label, negative (strength < 0 before the
 * flip), strength_mean, votes_in, votes_unmatched.
 *
 * **Example**
 * ```ts
 * const strong = p.node("strong", strength.filter({ flipBelow: -0.5, drop: { fraction: 0.1 } }),
 *   { pairs: ai, votes: ai.votes })
 * ```
 */
import { Effect, Schema } from "effect"
import { input, output, outputLike, type TableSchema } from "../../workbench/core/contract.js"
import { DataError } from "../../workbench/core/errors.js"
import type { NodeView } from "../../workbench/core/views.js"
import { defineNode } from "../../workbench/core/node.js"
import { param } from "../../workbench/core/params.js"
import { Sql } from "../../workbench/core/services.js"
import { hasColumn, votesOnRowsSql } from "../lib/vote-rows.js"
import {
  outputRowsSql,
  reportSql,
  rowMarginsSql,
  STRENGTH_COLUMNS,
  type StrengthPlan,
  strengthRowsSql
} from "./plan.js"

export const StrengthParams = Schema.Struct({
  drop: param(
    Schema.NullOr(
      Schema.Union([
        Schema.Struct({ below: Schema.Number }),
        Schema.Struct({ fraction: Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 })) })
      ])
    ),
    null,
    "drop rows with strength below a threshold ({below: 0}) or the weakest fraction ({fraction: 0.1}); null: none"
  ),
  flipBelow: param(
    Schema.NullOr(Schema.Number.check(Schema.isLessThanOrEqualTo(0))),
    null,
    "flip the label of rows whose strength is below this (at most 0, e.g. -0.5); null: none"
  ),
  smoothing: param(
    Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 })),
    0.1,
    "label smoothing: label_weight = 1 − smoothing·(1 − strength)/2 (strength clamped to −1..1)"
  ),
  marginScale: param(
    Schema.Number.check(Schema.isGreaterThanOrEqualTo(0)),
    1,
    "margin column = marginScale · max(strength, 0), for margin-aware reward-model training"
  ),
  minVotes: param(Schema.Int.check(Schema.isGreaterThan(0)), 1, "votes a row needs for a strength"),
  bins: param(
    Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 1000 })),
    20,
    "histogram bins in strength_report"
  )
})
export type StrengthParams = typeof StrengthParams.Type

const noLabel = (at: string) =>
  new DataError({
    where: `${at} input pairs`,
    found: "the pairs have no label column",
    expected: "labelled pairs: strength is the ensemble's margin towards each pair's label",
    fix: "label the pairs first (judge.aggregate, or a loader that gives labels)"
  })

const report = { bin: "int64", bin_lo: "float64", bin_hi: "float64", action: "utf8", pairs: "int64" } as const

/**
 * What `wb serve` draws (core/views.ts): strength_report's bins, stacked by what happened to the rows.
 * Only bins that hold rows: the report keeps every empty bin of each action, which would draw as
 * zero-height bars.
 */
const strengthViews: ReadonlyArray<NodeView> = [
  {
    name: "strength",
    title: "Strength by action",
    table: "strength_report",
    kind: "histogram",
    x: "bin_lo",
    sql: `SELECT bin_lo AS x0, bin_hi AS x1, action AS color, pairs::INTEGER AS n FROM input
      WHERE bin IS NOT NULL AND pairs > 0 ORDER BY bin, action`,
    xLabel: "strength (ensemble margin towards the label, before any flip)",
    yLabel: "pairs",
    doc: "mass below 0 is pairs the raters contradict: flipped or dropped per the params"
  }
]

export const filter = defineNode({
  kind: "strength.filter",
  version: 2,
  summary:
    "Preference strength from an ensemble's votes: drop weak pairs, flip strongly negative ones, weights and margins",
  params: StrengthParams,
  inputs: {
    pairs: input({ pair_id: "utf8", label: "utf8" }, { optional: { source_row: "int64" }, doc: "labelled pairs" }),
    votes: input(
      { pair_id: "utf8", rater: "utf8", vote: "utf8" },
      {
        optional: { margin: "float64", p_a: "float64", meta: "json", source_row: "int64" },
        many: true,
        doc: "one vote per rater and pair (judge.aggregate's votes): margin, else p_a, else the hard vote"
      }
    )
  },
  outputs: {
    pairs: outputLike("main", "pairs", { add: STRENGTH_COLUMNS, doc: "kept rows with strength, label_weight, margin" }),
    dropped: outputLike("removed", "pairs", {
      add: { ...STRENGTH_COLUMNS, reason: "utf8" },
      doc: "dropped rows, with reason"
    }),
    strength_report: output("aux", report, { doc: "strength histogram by action (kept, flipped, dropped)" })
  },
  views: strengthViews,
  inferOutputs: ({ node, kind, inputs }) => {
    const pairs: TableSchema | undefined = inputs["pairs"]
    return pairs !== undefined && !pairs.open && !hasColumn(pairs, "label")
      ? Effect.fail(noLabel(`node "${node}" (${kind})`))
      : Effect.succeed({})
  },
  run: ({ node, kind, params, inputs }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const { pairs, votes } = inputs
      if (!hasColumn(pairs.schema, "label")) return yield* noLabel(`node "${node}" (${kind})`)
      const plan: StrengthPlan = params
      const attached = yield* sql.create("strength_votes", votesOnRowsSql(pairs, votes))
      const margins = yield* sql.create("strength_margins", rowMarginsSql(attached, votes.schema))
      const rows = yield* sql.create("strength_rows", strengthRowsSql(plan, pairs.numbered, margins, true))
      const kept = yield* sql.create("strength_kept", outputRowsSql(plan, rows, pairs.schema, false))
      const dropped = yield* sql.create("strength_dropped", outputRowsSql(plan, rows, pairs.schema, true))
      const histogram = yield* sql.create("strength_report", reportSql(plan, rows))
      const [c] = yield* sql.rows<Record<string, number>>(
        `SELECT count(*)::INTEGER AS rows_in, count(*) FILTER (WHERE NOT _drop)::INTEGER AS kept, count(*) FILTER (WHERE _drop)::INTEGER AS dropped,
           count(*) FILTER (WHERE flipped)::INTEGER AS flipped, count(*) FILTER (WHERE strength_action = 'no-votes')::INTEGER AS no_votes,
           count(*) FILTER (WHERE strength_action = 'no-label')::INTEGER AS no_label, count(*) FILTER (WHERE s0 < 0)::INTEGER AS negative,
           avg(s0) AS strength_mean,
           (SELECT count(DISTINCT _wb_vote) FROM ${attached})::INTEGER AS matched,
           (SELECT count(*) FILTER (WHERE flipped) FROM ${kept})::INTEGER
             + (SELECT count(*) FILTER (WHERE flipped) FROM ${dropped})::INTEGER AS flipped_out,
           (SELECT sum(pairs)::INTEGER FROM ${histogram}) AS reported
         FROM ${rows}`
      )
      const k = c!
      const outKept = yield* sql.count(kept)
      const outDropped = yield* sql.count(dropped)
      // the accounting the family promises: a break here is a bug, never a data problem to shrug off
      if (
        k["rows_in"] !== pairs.rows ||
        outKept + outDropped !== pairs.rows ||
        outKept !== k["kept"] ||
        k["flipped_out"] !== k["flipped"] ||
        k["reported"] !== pairs.rows
      ) {
        return yield* Effect.die(
          new Error(
            `strength.filter lost rows: ${pairs.rows} in, ${outKept} kept + ${outDropped} dropped, ` +
              `${k["flipped"]} flipped (${k["flipped_out"]} in the outputs), ${k["reported"]} in the report`
          )
        )
      }
      const { matched, flipped_out: _f, reported: _r, strength_mean, ...counts } = k
      const stats: Record<string, number> = { ...counts, votes_in: votes.rows, votes_unmatched: votes.rows - matched! }
      if (strength_mean !== null && strength_mean !== undefined) stats["strength_mean"] = strength_mean
      return { tables: { pairs: kept, dropped, strength_report: histogram }, stats }
    })
})

export const strength = { filter }
