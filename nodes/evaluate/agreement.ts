/**
 * `evaluate.agreement` — each rater against the pairs' label (or against another rater): accuracy,
 * Cohen's kappa (a / b / tie) and the confusion matrix over pair rows both have a verdict on; the two
 * biases judges are known for, P(prefer longer) (decisive votes where the lengths differ) and
 * P(prefer position 1) (decisive votes; position 1 is response_b when a vote's order is 'ba', else
 * response_a); and for judges asked in both orders (votes with order 'ab' / 'ba'), LLMBar's statistics:
 * agreement in each order (agree_ab, agree_ba), in both (agree_both), and the rows whose two orders
 * disagree (order_inconsistent: a count; order_inconsistent_rate). A rater's verdict on a row is the
 * majority of its votes there (a tie when no side has most); per order, the majority of that order's.
 * Every metric per slice, with a seeded 95% bootstrap interval over the rater's rows.
 *
 * **Input columns**
 * - `votes` (many): pair_id, rater, vote; optional order, rater_kind, meta, source_row.
 * - `pairs`: pair_id, response_a, response_b; label (when `against` is 'label').
 * - `raters` (optional, many): rater, attributes — slice by `attributes.<key>` (a rater group).
 *
 * **Output columns**
 * - `metrics` (main): slice_by, slice, rater, against, metric, value, ci_lo, ci_hi, n.
 * - `confusion` (aux): slice_by, slice, rater, against, against_vote, rater_vote (a | b | tie), n — every cell.
 *
 * **Params**: against ("label", or a rater's name), raters (null: every rater but `against`), by ([]),
 * resamples (1000), seed (0).
 *
 * **Stats**: votes_in, raters, rows (pair rows × raters compared).
 *
 * **Example**
 * ```ts
 * p.node("agree", evaluate.agreement({ by: "source" }), { votes: [gpt.votes, pandalm.votes], pairs: panda })
 * ```
 */
import { Effect, Schema } from "effect"
import { input, output } from "../../workbench/core/contract.js"
import { DataError } from "../../workbench/core/errors.js"
import { defineNode } from "../../workbench/core/node.js"
import { param } from "../../workbench/core/params.js"
import { Sql } from "../../workbench/core/services.js"
import { firstSideSql, lengthsDifferSql, longerSideSql } from "../lib/agreement-sql.js"
import { columnOr, hasColumn, voteSql } from "../lib/vote-rows.js"
import { agreementMetrics, majority, type RaterRow, VERDICTS, type Verdict } from "./agreement-core.js"
import { ByParam, byList, loadRows, ResamplesParam, SeedParam, sliceColumnsSql } from "./columns.js"
import { slicesOf } from "./stats.js"
import { ratersIn, voteSources, votesIn, votesJoinedSql } from "./votes-join.js"
import { agreementViews } from "./views.js"

export const AgreementParams = Schema.Struct({
  against: param(
    Schema.String,
    "label",
    "what each rater is compared with: 'label' (the pairs' label) or a rater's name"
  ),
  raters: param(
    Schema.NullOr(Schema.Array(Schema.String)),
    null,
    "the raters to compare (null: every rater but against)"
  ),
  by: ByParam,
  resamples: ResamplesParam,
  seed: SeedParam
})
export type AgreementParams = typeof AgreementParams.Type

const AGREEMENT_COLUMNS = {
  slice_by: "utf8",
  slice: "utf8",
  rater: "utf8",
  against: "utf8",
  metric: "utf8",
  value: "float64",
  ci_lo: "float64",
  ci_hi: "float64",
  n: "int64"
} as const
const CONFUSION_COLUMNS = {
  slice_by: "utf8",
  slice: "utf8",
  rater: "utf8",
  against: "utf8",
  against_vote: "utf8",
  rater_vote: "utf8",
  n: "int64"
} as const

type Counted = Record<string, unknown> & { rater: string; row: number; label: Verdict | null }
const n = (x: unknown) => Number(x ?? 0)

export const agreement = defineNode({
  kind: "evaluate.agreement",
  version: 1,
  summary: "Rater vs label or rater: accuracy, Cohen's kappa, confusion, length / position bias, order consistency",
  params: AgreementParams,
  inputs: {
    votes: votesIn("the raters' votes (judge nodes, load.votes, a loader's votes)"),
    pairs: input(
      { pair_id: "utf8", response_a: "utf8", response_b: "utf8" },
      { optional: { label: "utf8" }, doc: "the pairs voted on: label (against 'label') and both responses (lengths)" }
    ),
    raters: ratersIn()
  },
  outputs: {
    metrics: output("main", AGREEMENT_COLUMNS, { doc: "per slice and rater: metric, value, 95% interval, n" }),
    confusion: output("aux", CONFUSION_COLUMNS, { doc: "per slice and rater: against verdict × rater verdict counts" })
  },
  views: agreementViews,
  run: ({ node, kind, params, inputs }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const { votes, pairs, raters } = inputs
      const at = (p: string) => `node "${node}" (${kind}) param ${p}`
      if (params.against === "label" && !hasColumn(pairs.schema, "label")) {
        return yield* new DataError({
          where: at("against"),
          found: "the pairs have no label column",
          expected: "labelled pairs, or against naming a rater",
          fix: "label the pairs first (a loader with labels, judge.aggregate), or set against to a rater's name"
        })
      }
      const by = byList(params.by)
      const slices = sliceColumnsSql(by, voteSources(votes, pairs, raters), at("by"))
      if (slices instanceof DataError) return yield* slices
      const order = `lower(${columnOr(votes.schema, "v", "order", "utf8")})`
      const vote = voteSql(columnOr(votes.schema, "v", "vote", "utf8"))
      const [a, b] = ["p.response_a", "p.response_b"]
      const perVote = votesJoinedSql(
        [
          "v.rater AS rater",
          "v._wb_row AS _row",
          `${vote} AS _vote`,
          `${order} AS _order`,
          `${firstSideSql(columnOr(votes.schema, "v", "order", "utf8"))} AS _first`,
          `${longerSideSql(a, b)} AS _longer`,
          `${lengthsDifferSql(a, b)} AS _differ`,
          `${params.against === "label" ? voteSql("p.label") : "NULL::VARCHAR"} AS _label`,
          ...slices
        ].join(", "),
        votes,
        pairs,
        raters
      )
      const count = (cond: string) => `count(*) FILTER (WHERE ${cond})`
      const sliceAgg = by.map((_, d) => `any_value(_by${d}) AS _by${d}`)
      const counted = yield* sql.rows<Counted>(
        `SELECT rater, _row AS row, any_value(_label) AS label, ${[
          ...["a", "b", "tie"].flatMap((k) => [
            `${count(`_vote = '${k}'`)} AS n_${k}`,
            `${count(`_vote = '${k}' AND _order = 'ab'`)} AS ab_${k}`,
            `${count(`_vote = '${k}' AND _order = 'ba'`)} AS ba_${k}`
          ]),
          `${count("_vote IN ('a', 'b')")} AS decisive`,
          `${count("_vote IN ('a', 'b') AND _vote = _first")} AS first`,
          `${count("_vote IN ('a', 'b') AND _differ")} AS with_lengths`,
          `${count("_vote IN ('a', 'b') AND _differ AND _vote = _longer")} AS longer`,
          ...sliceAgg
        ].join(", ")} FROM (${perVote}) GROUP BY rater, _row ORDER BY rater, _row`
      )
      const verdictOf = (r: Counted, p: string) => majority(n(r[`${p}_a`]), n(r[`${p}_b`]), n(r[`${p}_tie`]))
      const reference = new Map<number, Verdict | null>()
      if (params.against !== "label") {
        for (const r of counted) if (r.rater === params.against) reference.set(r.row, verdictOf(r, "n"))
      }
      const names = [...new Set(counted.map((r) => r.rater))].filter(
        (r) => r !== params.against && (params.raters === null || params.raters.includes(r))
      )
      const metrics: Array<Record<string, unknown>> = []
      const confusion: Array<Record<string, unknown>> = []
      for (const rater of names) {
        const mine = counted.filter((r) => r.rater === rater)
        const rows: Array<RaterRow> = mine.map((r) => ({
          verdict: verdictOf(r, "n"),
          ab: verdictOf(r, "ab"),
          ba: verdictOf(r, "ba"),
          against: params.against === "label" ? r.label : (reference.get(r.row) ?? null),
          decisive: n(r["decisive"]),
          first: n(r["first"]),
          withLengths: n(r["with_lengths"]),
          longer: n(r["longer"])
        }))
        const keys = by.map((_, d) => mine.map((r) => String(r[`_by${d}`])))
        for (const slice of slicesOf(rows.length, by, keys)) {
          const part = slice.items.map((i) => rows[i]!)
          const head = { slice_by: slice.by, slice: slice.slice, rater, against: params.against }
          for (const m of agreementMetrics(
            part,
            params.resamples,
            params.seed,
            `${rater}\u0000${slice.by}\u0000${slice.slice}`
          )) {
            metrics.push({ ...head, metric: m.metric, value: m.value, ci_lo: m.ci.lo, ci_hi: m.ci.hi, n: m.n })
          }
          for (const x of VERDICTS) {
            for (const y of VERDICTS) {
              const cell = part.filter((r) => r.against === x && r.verdict === y).length
              confusion.push({ ...head, against_vote: x, rater_vote: y, n: cell })
            }
          }
        }
      }
      return {
        tables: {
          metrics: yield* loadRows("agreement", AGREEMENT_COLUMNS, metrics),
          confusion: yield* loadRows("confusion", CONFUSION_COLUMNS, confusion)
        },
        stats: {
          votes_in: votes.rows,
          raters: names.length,
          rows: counted.filter((r) => names.includes(r.rater)).length
        }
      }
    })
})
