/**
 * `evaluate.calibration` — how well a model's preference probabilities match how often it is right.
 * The probability is p_a, or σ(score_a − score_b) from scores (train.score's p_a is that). Two views:
 * - `mode: "confidence"` (Guo et al. 2017): x = max(p, 1 − p), the confidence in the preferred side;
 *   y = 1 when the label is that side (0.5 when p is exactly 0.5); bins over [0.5, 1];
 * - `mode: "p_a"`: x = p, y = 1 when the label is a; bins over [0, 1] (a reliability diagram of P(a)).
 * Only pairs labelled a or b count. ECE = Σ_bins (n_bin / n) · |mean x − mean y|; MCE the largest gap;
 * Brier = mean (x − y)²; each with a seeded 95% bootstrap interval per slice.
 *
 * **Input columns**
 * - `pairs`: label; p_a, or score_a and score_b; any columns `by` names.
 *
 * **Output columns**
 * - `metrics` (main): slice_by, slice, metric ('ece' | 'mce' | 'brier'), value, ci_lo, ci_hi, n.
 * - `bins` (aux): slice_by, slice, bin, bin_lo, bin_hi, n, mean_pred, observed (mean y), gap (observed −
 *   mean_pred); every bin of every slice, empty ones with n 0.
 *
 * **Params**: from ("auto": p_a when present, else scores), mode ("confidence"), bins (10), by ([]),
 * resamples (1000), seed (0).
 *
 * **Stats**: pairs_in, counted, ece.
 *
 * **Example**
 * ```ts
 * p.node("calib", evaluate.calibration({ bins: 10 }), { pairs: scored })
 * ```
 */
import { Effect, Schema } from "effect"
import { input, output } from "../../workbench/core/contract.js"
import { DataError } from "../../workbench/core/errors.js"
import { defineNode } from "../../workbench/core/node.js"
import { param } from "../../workbench/core/params.js"
import { Sql } from "../../workbench/core/services.js"
import { hasColumn } from "../lib/vote-rows.js"
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
import { bootstrap, seededRandom, seedFor, slicesOf } from "./stats.js"
import { calibrationViews } from "./views.js"

export const CalibrationParams = Schema.Struct({
  from: FromParam,
  mode: param(Schema.Literals(["confidence", "p_a"]), "confidence", "bin the confidence max(p, 1 − p) or p_a itself"),
  bins: param(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 1000 })), 10, "equal-width bins"),
  by: ByParam,
  resamples: ResamplesParam,
  seed: SeedParam
})
export type CalibrationParams = typeof CalibrationParams.Type

export const BINS_COLUMNS = {
  slice_by: "utf8",
  slice: "utf8",
  bin: "int64",
  bin_lo: "float64",
  bin_hi: "float64",
  n: "int64",
  mean_pred: "float64",
  observed: "float64",
  gap: "float64"
} as const

/** Per bin over items `idx`: count, Σx, Σy; bins equal-width over [lo, 1]. */
export function binStats(x: ArrayLike<number>, y: ArrayLike<number>, idx: ArrayLike<number>, bins: number, lo: number) {
  const n = new Float64Array(bins)
  const sx = new Float64Array(bins)
  const sy = new Float64Array(bins)
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!
    const b = Math.min(bins - 1, Math.max(0, Math.floor(((x[i]! - lo) / (1 - lo)) * bins)))
    n[b]! += 1
    sx[b]! += x[i]!
    sy[b]! += y[i]!
  }
  return { n, sx, sy }
}

/** ECE, MCE and Brier over items `idx`. */
export function calibrationOf(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  idx: ArrayLike<number>,
  bins: number,
  lo: number
) {
  const { n, sx, sy } = binStats(x, y, idx, bins, lo)
  let ece = 0
  let mce = 0
  let brier = 0
  for (let b = 0; b < bins; b++) {
    if (n[b] === 0) continue
    const gap = Math.abs(sx[b]! / n[b]! - sy[b]! / n[b]!)
    ece += (n[b]! / idx.length) * gap
    mce = Math.max(mce, gap)
  }
  for (let k = 0; k < idx.length; k++) brier += (x[idx[k]!]! - y[idx[k]!]!) ** 2
  return { ece, mce, brier: brier / idx.length }
}

export const calibration = defineNode({
  kind: "evaluate.calibration",
  version: 1,
  summary: "Calibration of preference probabilities: ECE, MCE, Brier with bootstrap CIs, reliability bins",
  params: CalibrationParams,
  inputs: {
    pairs: input(
      { label: "utf8" },
      { optional: { score_a: "float64", score_b: "float64", p_a: "float64" }, doc: "labelled pairs with p_a or scores" }
    )
  },
  outputs: {
    metrics: output("main", METRICS_COLUMNS, {
      doc: "slice_by, slice, metric (ece, mce, brier), value, 95% interval, n"
    }),
    bins: output("aux", BINS_COLUMNS, {
      doc: "reliability diagram: per slice and bin, mean prediction and observed rate"
    })
  },
  views: calibrationViews,
  run: ({ node, kind, params, inputs }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const { pairs } = inputs
      const at = (p: string) => `node "${node}" (${kind}) param ${p}`
      // probabilities: p_a first when auto (scores are turned into one by σ)
      const wanted = params.from === "auto" && hasColumn(pairs.schema, "p_a") ? "p_a" : params.from
      const from = resolveFrom(wanted, pairs.schema, at("from"))
      if (from instanceof DataError) return yield* from
      const by = byList(params.by)
      const sliceCols = sliceColumnsSql(by, [{ alias: "p", schema: pairs.schema, name: "pairs" }], at("by"))
      if (sliceCols instanceof DataError) return yield* sliceCols
      const rows = yield* sql.rows<Record<string, unknown>>(
        `SELECT * FROM (SELECT ${[predictionSql(from), ...sliceCols].join(", ")}, _wb_row AS _wb_r FROM ${pairs.numbered} p)
         WHERE _label IN ('a', 'b') AND _pred_a IS NOT NULL AND NOT isnan(_pred_a) ORDER BY _wb_r`
      )
      const conf = params.mode === "confidence"
      const p = rows.map((r) => Number(r["_pred_a"]))
      const isA = rows.map((r) => r["_label"] === "a")
      const x = Float64Array.from(p, (v) => (conf ? Math.max(v, 1 - v) : v))
      const y = Float64Array.from(p, (v, i) => (conf ? (v === 0.5 ? 0.5 : v > 0.5 === isA[i] ? 1 : 0) : isA[i] ? 1 : 0))
      const lo = conf ? 0.5 : 0
      const keys = by.map((_, d) => rows.map((r) => String(r[`_by${d}`])))
      const metrics: Array<MetricRow> = []
      const binRows: Array<Record<string, unknown>> = []
      for (const slice of slicesOf(rows.length, by, keys)) {
        const idx = Int32Array.from(slice.items)
        const all = calibrationOf(x, y, idx, params.bins, lo)
        for (const metric of ["ece", "mce", "brier"] as const) {
          const random = seededRandom(seedFor(params.seed, `${metric}\u0000${slice.by}\u0000${slice.slice}`))
          const ci = bootstrap(idx.length, params.resamples, random, (r) =>
            idx.length === 0
              ? Number.NaN
              : calibrationOf(
                  x,
                  y,
                  r.map((k) => idx[k]!),
                  params.bins,
                  lo
                )[metric]
          )
          const value = idx.length === 0 ? null : all[metric]
          metrics.push({
            slice_by: slice.by,
            slice: slice.slice,
            metric,
            value,
            ci_lo: ci.lo,
            ci_hi: ci.hi,
            n: idx.length
          })
        }
        const { n, sx, sy } = binStats(x, y, idx, params.bins, lo)
        for (let b = 0; b < params.bins; b++) {
          const w = (1 - lo) / params.bins
          const mean = n[b]! > 0 ? sx[b]! / n[b]! : null
          const obs = n[b]! > 0 ? sy[b]! / n[b]! : null
          binRows.push({
            slice_by: slice.by,
            slice: slice.slice,
            bin: b,
            bin_lo: lo + b * w,
            bin_hi: lo + (b + 1) * w,
            n: n[b]!,
            mean_pred: mean,
            observed: obs,
            gap: mean === null || obs === null ? null : obs - mean
          })
        }
      }
      const overall = metrics.find((m) => m.slice_by === "(all)" && m.metric === "ece")
      return {
        tables: {
          metrics: yield* loadRows("metrics", METRICS_COLUMNS, metrics),
          bins: yield* loadRows("bins", BINS_COLUMNS, binRows)
        },
        stats: { pairs_in: pairs.rows, counted: rows.length, ece: overall?.value ?? "n/a" }
      }
    })
})
