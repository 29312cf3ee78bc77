/**
 * Mix family — *Hybrid Preferences: Learning to Route Instances for Human vs. AI Feedback* (Miranda
 * et al. 2024): decide which pairs get a human label and which keep the AI's, under a human budget.
 *
 * `mix.route` — the pairs' `label` is the AI label (connect judge.aggregate's pairs over AI votes, or
 * strength.filter's after it); `human` votes give a pair row its human label (their majority; a tie
 * when no side has most). The strategy ranks the rows (`route_rank`, 1 = first to a human) and routes
 * the first k = budget of them (`{fraction}` of the rows, rounded down, or `{pairs}`):
 * - `prefer-human`: every row is routed (budget unused): the human label wherever there is one;
 * - `fixed-ratio`: a seeded random k rows (md5 of seed, pair_id, source_row);
 * - `route-by-uncertainty`: position-inconsistent rows first (n_inconsistent on the pairs, or AI votes
 *   with position_consistent false), then rows without an AI label, then lowest AI agreement, then
 *   lowest |strength| (strength, else label_margin), ties by the seeded hash. The same order is the
 *   active-elicitation queue;
 * - `route-by-features`: HyPER-style binned features (length difference, prompt length, lexical
 *   overlap, judge disagreement) and a ridge gain model fitted on the rows with both labels (gain 1
 *   where the AI label is wrong); highest predicted gain first. Fails below `minFit` such rows.
 * A routed row with a human label takes it (label_source 'human'); any other row keeps the AI label
 * ('ai'), or the human label when it has no AI label ('human', counted in human_fallback).
 *
 * **Input columns**
 * - `pairs`: pair_id, response_a, response_b; optional prompt, label (the AI label), label_source,
 *   source_row, agreement, n_inconsistent, strength, label_margin (others pass through).
 * - `human` (optional, many): votes — pair_id, rater, vote; optional rater_kind (only `humanKinds`
 *   rows count), meta / source_row.
 * - `ai` (optional, many): votes — pair_id, rater, vote; optional rater_kind (rows of `humanKinds`
 *   are left out, so one votes table can feed both inputs), order, position_consistent, meta /
 *   source_row. For AI agreement per row and the agreement report.
 *
 * **Output columns**
 * - `pairs` (main): the input's columns, in input order, label and label_source final, plus label_ai,
 *   label_human, routed, route_rank, route_score (uncertainty 1 − AI agreement; predicted gain; the
 *   hash for fixed-ratio), ai_agreement.
 * - `human_queue` (aux): routed rows without a human label, in routing order: queue_rank, pair_id,
 *   source_row, prompt, response_a, response_b, label_ai, route_score, route_rank. Write it with
 *   export.table (JSONL / CSV for Argilla or Label Studio); read the answers back with load.votes.
 * - `agreement` (aux): per AI rater, then '(ai label)' and '(human label)': rater, rater_kind, pairs
 *   (rows with a human label), voted (of those, with a usable vote), agree, accuracy (agree / pairs: a
 *   missing vote counts as a disagreement), accuracy_voted, kappa (Cohen's, a / b / tie, over voted
 *   rows), decisive (a / b votes, all rows), p_prefer_longer (of decisive votes where lengths differ),
 *   p_prefer_first (position 1: response_b when the vote's order is 'ba', else response_a).
 * - `confusion` (aux): rater, human (a | b | tie), ai (a | b | tie | none), pairs — every cell.
 * - `gain_model` (aux): route-by-features only (else empty): feature '(intercept)', then each
 *   feature bin that holds rows: feature, bin, bin_lo, bin_hi, pairs, fit_pairs, mean_gain (observed),
 *   weight.
 *
 * **Params**: strategy ("route-by-uncertainty"), budget ({fraction: 0.2}), seed (0), humanKinds
 * (["human"]), bins (4), ridge (1), minFit (20).
 *
 * **Stats**: pairs, budget, routed, from_human, from_ai, human_fallback, unlabelled, queue,
 * with_human, fit_pairs (route-by-features), human_votes_in, ai_votes_in.
 *
 * **Example**
 * ```ts
 * const mixed = p.node("mix", mix.route({ strategy: "route-by-uncertainty", budget: { fraction: 0.2 } }),
 *   { pairs: strong, human: panda.votes, ai: ai.votes })
 * p.node("queue", exportTo.table({ to: "exports/human-queue.jsonl" }), { table: mixed.human_queue })
 * ```
 */
import { Effect } from "effect"
import { input, output, outputLike } from "../../workbench/core/contract.js"
import { defineNode } from "../../workbench/core/node.js"
import type { NodeView } from "../../workbench/core/views.js"
import { Sql } from "../../workbench/core/services.js"
import { votesOnRowsSql } from "../lib/vote-rows.js"
import { AGREEMENT_COLUMNS, CONFUSION_COLUMNS } from "./agreement.js"
import { GAIN_MODEL_COLUMNS, routeRows } from "./route.js"
import { MixParams } from "./params.js"
import { MIX_COLUMNS } from "./plan.js"

const votesIn = (doc: string) =>
  input(
    { pair_id: "utf8", rater: "utf8", vote: "utf8" },
    {
      optional: { rater_kind: "utf8", order: "utf8", position_consistent: "bool", meta: "json", source_row: "int64" },
      optionalInput: true,
      many: true,
      doc
    }
  )

/**
 * What `wb serve` draws (core/views.ts): each rater's agreement with the human label (accuracy and
 * Cohen's kappa, one cell each), and its position bias (P(prefer the response shown first); 0.5 is none).
 */
const mixViews: ReadonlyArray<NodeView> = [
  {
    name: "agreement",
    title: "Agreement with the human label",
    table: "agreement",
    kind: "heatmap",
    x: "rater",
    sql: `SELECT rater AS x, metric AS y, value::DOUBLE AS value FROM (
        UNPIVOT (SELECT rater, accuracy, kappa FROM input) ON accuracy, kappa INTO NAME metric VALUE value)
      ORDER BY x, y`,
    doc: "kappa near 0 is chance agreement; '(ai label)' is the label the unrouted pairs keep"
  },
  {
    name: "position-bias",
    title: "Position bias: P(prefer the response shown first)",
    table: "agreement",
    kind: "bar",
    x: "rater",
    y: "max(p_prefer_first)",
    where: "p_prefer_first IS NOT NULL",
    reference: 0.5,
    yLabel: "P(prefer first)",
    doc: "0.5 is no bias; far above it, the rater favours whatever it saw first"
  }
]

export const route = defineNode({
  kind: "mix.route",
  version: 1,
  summary: "Route pairs to human or AI labels under a human budget; human queue and human-vs-AI agreement report",
  params: MixParams,
  inputs: {
    pairs: input(
      { pair_id: "utf8", response_a: "utf8", response_b: "utf8" },
      {
        optional: {
          prompt: "utf8",
          label: "utf8",
          label_source: "utf8",
          source_row: "int64",
          agreement: "float64",
          n_inconsistent: "int64",
          strength: "float64",
          label_margin: "float64"
        },
        doc: "pairs whose label is the AI label"
      }
    ),
    human: votesIn("human votes (may cover only some pairs)"),
    ai: votesIn("AI votes (judge.aggregate's votes), for agreement")
  },
  outputs: {
    pairs: outputLike("main", "pairs", {
      add: { label: "utf8", label_source: "utf8", ...MIX_COLUMNS },
      doc: "the pairs with the final label, label_source, and how they were routed"
    }),
    human_queue: output(
      "aux",
      {
        queue_rank: "int64",
        pair_id: "utf8",
        source_row: "int64",
        prompt: "utf8",
        response_a: "utf8",
        response_b: "utf8",
        label_ai: "utf8",
        route_score: "float64",
        route_rank: "int64"
      },
      { doc: "routed pairs still lacking a human label, in routing order (to export for annotators)" }
    ),
    agreement: output("aux", AGREEMENT_COLUMNS, {
      doc: "per AI rater: accuracy and kappa vs the human label, length and position bias"
    }),
    confusion: output("aux", CONFUSION_COLUMNS, { doc: "per rater: human label x rater vote counts" }),
    gain_model: output("aux", GAIN_MODEL_COLUMNS, { doc: "route-by-features: the fitted gain per feature bin" })
  },
  views: mixViews,
  run: (ctx) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const { pairs, human, ai } = ctx.inputs
      const attach = (name: string, votes: typeof human) =>
        votes === undefined ? Effect.succeed(undefined) : sql.create(`mix_${name}_rows`, votesOnRowsSql(pairs, votes))
      const humanRows = yield* attach("human", human)
      const aiRows = yield* attach("ai", ai)
      const out = yield* routeRows(ctx, pairs, { human, humanRows, ai, aiRows })
      if ((yield* sql.count(out.tables.pairs)) !== pairs.rows) {
        return yield* Effect.die(new Error(`mix.route lost rows: ${pairs.rows} in, ${out.stats["pairs"]} out`))
      }
      return out
    })
})

export const mix = { route }
