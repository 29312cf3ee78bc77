/**
 * `evaluate.accuracy` — reward-model / preference accuracy: the share of labelled pairs (label a or b)
 * whose labelled side the model prefers, strictly (score_a > score_b for label a; equal scores count
 * wrong, as in RewardBench). Per slice, with a seeded 95% percentile bootstrap interval over pairs.
 *
 * With `sections` (RewardBench's subset map, e.g. `{ Chat: ["alpacaeval-easy", "mt-bench-easy"], … }`)
 * the pairs' `subsetColumn` says each pair's subset; each section's accuracy is the example-weighted
 * mean of its subsets' accuracies (RewardBench's `calculate_scores_per_section`: the accuracy over the
 * section's pairs), and `score` is the mean of the sections' accuracies weighted by `sectionWeights`
 * (default 1 each; RewardBench v1 gives Prior Sets 0.5). Intervals resample the slice's pairs.
 *
 * **Input columns**
 * - `pairs`: label; score_a and score_b, or p_a (train.score writes all three); any columns `by` and
 *   `subsetColumn` name.
 *
 * **Output columns**
 * - `metrics` (main): slice_by, slice, metric ('accuracy'; with sections also 'score', and per section a row
 *   with slice_by 'section'), value, ci_lo, ci_hi, n (pairs counted).
 *
 * **Params**: from ("auto"), by ([]), sections (null), subsetColumn ("subset"), sectionWeights ({}),
 * resamples (1000), seed (0).
 *
 * **Stats**: pairs_in, counted, no_label (label not a / b), no_score, accuracy.
 *
 * **Example**
 * ```ts
 * p.node("acc", evaluate.accuracy({ by: "source" }), { pairs: scored })
 * ```
 */
import { Effect, Schema } from "effect"
import { input, output } from "../../workbench/core/contract.js"
import { DataError } from "../../workbench/core/errors.js"
import { defineNode } from "../../workbench/core/node.js"
import { param } from "../../workbench/core/params.js"
import { Sql } from "../../workbench/core/services.js"
import {
  ByParam,
  byList,
  loadRows,
  METRICS_COLUMNS,
  type MetricRow,
  ResamplesParam,
  SeedParam,
  sliceColumnsSql
} from "./columns.js"
import { FromParam, predictionSql, resolveFrom } from "./pair-scores.js"
import { bootstrap, meanAt, seededRandom, seedFor, slicesOf } from "./stats.js"
import { accuracyViews } from "./views.js"

export const AccuracyParams = Schema.Struct({
  from: FromParam,
  by: ByParam,
  sections: param(
    Schema.NullOr(Schema.Record(Schema.String, Schema.Array(Schema.String))),
    null,
    "RewardBench-style map of section → subsets; adds per-section accuracy and the weighted score"
  ),
  subsetColumn: param(Schema.String, "subset", "the pairs' column naming each pair's subset (with sections)"),
  sectionWeights: param(
    Schema.Record(Schema.String, Schema.Number.check(Schema.isGreaterThanOrEqualTo(0))),
    {},
    "weight of each section in score (absent: 1)"
  ),
  resamples: ResamplesParam,
  seed: SeedParam
})
export type AccuracyParams = typeof AccuracyParams.Type

/** RewardBench's score over the items `idx`: each section's accuracy, then their weighted mean. */
export function sectionScores(
  correct: ArrayLike<number>,
  section: ReadonlyArray<ReadonlyArray<number>>,
  weights: ReadonlyArray<number>,
  idx: ArrayLike<number>
): { sections: Array<number>; score: number } {
  const hit = new Float64Array(weights.length)
  const n = new Float64Array(weights.length)
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!
    for (const s of section[i]!) {
      hit[s]! += correct[i]!
      n[s]! += 1
    }
  }
  const sections = Array.from(hit, (h, s) => h / n[s]!)
  let num = 0
  let den = 0
  sections.forEach((a, s) => {
    if (!Number.isNaN(a)) {
      num += weights[s]! * a
      den += weights[s]!
    }
  })
  return { sections, score: num / den }
}

export const accuracy = defineNode({
  kind: "evaluate.accuracy",
  version: 1,
  summary: "Reward / preference accuracy (strict >, ties wrong), per slice and RewardBench section, bootstrap CIs",
  params: AccuracyParams,
  inputs: {
    pairs: input(
      { label: "utf8" },
      { optional: { score_a: "float64", score_b: "float64", p_a: "float64" }, doc: "labelled, scored pairs" }
    )
  },
  outputs: { metrics: output("main", METRICS_COLUMNS, { doc: "slice_by, slice, metric, value, 95% interval, n" }) },
  views: accuracyViews,
  run: ({ node, kind, params, inputs }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const { pairs } = inputs
      const at = (p: string) => `node "${node}" (${kind}) param ${p}`
      const from = resolveFrom(params.from, pairs.schema, at("from"))
      if (from instanceof DataError) return yield* from
      const by = byList(params.by)
      const sources = [{ alias: "p", schema: pairs.schema, name: "pairs" }]
      const sliceCols = sliceColumnsSql(
        params.sections === null ? by : [...by, params.subsetColumn],
        sources,
        at(params.sections !== null && by.length === 0 ? "subsetColumn" : "by")
      )
      if (sliceCols instanceof DataError) return yield* sliceCols
      const rows = yield* sql.rows<Record<string, unknown>>(
        `SELECT ${[predictionSql(from), ...sliceCols].join(", ")} FROM ${pairs.numbered} p ORDER BY _wb_row`
      )
      const labelled = rows.filter((r) => r["_label"] === "a" || r["_label"] === "b")
      const used = labelled.filter((r) => r["_correct"] !== null)
      const correct = Float64Array.from(used, (r) => Number(r["_correct"]))
      const keys = by.map((_, d) => used.map((r) => String(r[`_by${d}`])))
      const sectionNames = params.sections === null ? [] : Object.keys(params.sections)
      const weights = sectionNames.map((s) => params.sectionWeights[s] ?? 1)
      const subsetOf = used.map((r) => String(r[`_by${by.length}`]))
      const sectionOf = used.map((_, i) =>
        sectionNames.flatMap((s, k) => (params.sections![s]!.includes(subsetOf[i]!) ? [k] : []))
      )
      const out: Array<MetricRow> = []
      for (const slice of slicesOf(used.length, by, keys)) {
        const idx = Int32Array.from(slice.items)
        const random = seededRandom(seedFor(params.seed, `${slice.by}\u0000${slice.slice}`))
        const ci = bootstrap(idx.length, params.resamples, random, (r) =>
          meanAt(
            correct,
            r.map((k) => idx[k]!)
          )
        )
        const row = { slice_by: slice.by, slice: slice.slice, n: idx.length }
        out.push({ ...row, metric: "accuracy", value: meanAt(correct, idx), ci_lo: ci.lo, ci_hi: ci.hi })
        if (params.sections === null) continue
        const scoreOf = (ix: ArrayLike<number>) => sectionScores(correct, sectionOf, weights, ix)
        const random2 = seededRandom(seedFor(params.seed, `score\u0000${slice.by}\u0000${slice.slice}`))
        const sci = bootstrap(idx.length, params.resamples, random2, (r) => scoreOf(r.map((k) => idx[k]!)).score)
        const inSections = slice.items.filter((i) => sectionOf[i]!.length > 0).length
        out.push({ ...row, n: inSections, metric: "score", value: scoreOf(idx).score, ci_lo: sci.lo, ci_hi: sci.hi })
        if (slice.by !== "(all)") continue
        sectionNames.forEach((name, s) => {
          const members = Int32Array.from(slice.items.filter((i) => sectionOf[i]!.includes(s)))
          const r3 = seededRandom(seedFor(params.seed, `section\u0000${name}`))
          const c3 = bootstrap(members.length, params.resamples, r3, (r) =>
            meanAt(
              correct,
              r.map((k) => members[k]!)
            )
          )
          const value = members.length === 0 ? null : meanAt(correct, members)
          out.push({
            slice_by: "section",
            slice: name,
            metric: "accuracy",
            value,
            ci_lo: c3.lo,
            ci_hi: c3.hi,
            n: members.length
          })
        })
      }
      const metrics = yield* loadRows("metrics", METRICS_COLUMNS, out)
      return {
        tables: { metrics },
        stats: {
          pairs_in: pairs.rows,
          counted: used.length,
          no_label: rows.length - labelled.length,
          no_score: labelled.length - used.length,
          accuracy: used.length === 0 ? "n/a" : meanAt(correct)
        }
      }
    })
})
