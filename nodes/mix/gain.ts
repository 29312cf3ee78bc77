/**
 * route-by-features (after HyPER, *Hybrid Preferences: Learning to Route Instances for Human vs. AI
 * Feedback*, Miranda et al. 2024): binned features of each pair and a linear model of the gain from
 * asking a human, fitted on the rows that have both labels.
 *
 * Features: |length(a) − length(b)| and length(prompt) in characters, lexical overlap (Jaccard of the
 * two responses' word sets), and judge disagreement (1 − the AI raters' agreement with the AI label;
 * 1 when unknown). Each is cut into `bins` quantile bins (equal values share a bin). The gain of a row
 * with both labels is 1 when the AI label differs from the human label, else 0: what a human label
 * would have fixed. The model is ridge regression on the one-hot bins (intercept unpenalised); its
 * prediction orders the rows. HyPER fits its performance-prediction model on subsets' feature counts
 * against a reward model's score; here the per-row gain is its simplest stand-in, needing no training.
 */
import type { TableSchema } from "../../workbench/core/contract.js"
import { columnOr } from "../lib/vote-rows.js"

export const FEATURES = ["length_diff", "prompt_length", "overlap", "disagreement"] as const

/** SQL: per row, each feature's value and its bin (0-based), and the gain where both labels exist. */
export function featuresSql(rows: string, pairs: TableSchema, bins: number): string {
  const words = (x: string) =>
    `list_distinct(list_filter(regexp_split_to_array(lower(${x}), '[^\\p{L}\\p{N}]+'), lambda w: w <> ''))`
  const values = `(SELECT _wb_row, label_ai, label_human,
      abs(length(response_a) - length(response_b))::DOUBLE AS length_diff,
      coalesce(length(${columnOr(pairs, "r", "prompt", "utf8")}), 0)::DOUBLE AS prompt_length,
      coalesce(len(list_intersect(wa, wb)) / nullif(len(list_distinct(list_concat(wa, wb))), 0), 1.0)::DOUBLE AS overlap,
      (1 - coalesce(ai_agreement, 0))::DOUBLE AS disagreement
    FROM (SELECT r.*, ${words("r.response_a")} AS wa, ${words("r.response_b")} AS wb FROM ${rows} r) r)`
  const bin = (f: string) =>
    `least(${bins - 1}, floor(percent_rank() OVER (ORDER BY ${f}) * ${bins}))::INTEGER AS ${f}_bin`
  return `SELECT _wb_row, ${FEATURES.join(", ")}, ${FEATURES.map(bin).join(", ")},
      CASE WHEN label_ai IS NOT NULL AND label_human IS NOT NULL THEN (label_ai <> label_human)::INTEGER END AS gain
    FROM ${values} ORDER BY _wb_row`
}

/** One row's bins (one per feature) and its gain when it has both labels. */
export interface FeatureRow {
  readonly bins: ReadonlyArray<number>
  readonly gain: number | null
}

/** Solve A x = b (A square, symmetric positive definite here) by Gaussian elimination with pivoting. */
function solve(a: Array<Array<number>>, b: Array<number>): Array<number> {
  const n = b.length
  for (let c = 0; c < n; c++) {
    let p = c
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r
    ;[a[c], a[p]] = [a[p]!, a[c]!]
    ;[b[c], b[p]] = [b[p]!, b[c]!]
    const d = a[c]![c]!
    // ridge > 0 and at least one fitted row make the matrix positive definite; a guard, not a case
    if (d === 0) continue
    for (let r = 0; r < n; r++) {
      if (r === c) continue
      const f = a[r]![c]! / d
      if (f === 0) continue
      for (let k = c; k < n; k++) a[r]![k]! -= f * a[c]![k]!
      b[r]! -= f * b[c]!
    }
  }
  return b.map((x, i) => (a[i]![i] === 0 ? 0 : x / a[i]![i]!))
}

/**
 * Fit the ridge model on the rows with a gain and predict every row. Weights: [intercept, then
 * `bins` per feature]. Pure: the same rows give the same weights.
 */
export function fitGain(rows: ReadonlyArray<FeatureRow>, bins: number, ridge: number) {
  const width = 1 + FEATURES.length * bins
  const index = (f: number, b: number) => 1 + f * bins + b
  const xtx = Array.from({ length: width }, () => new Array<number>(width).fill(0))
  const xty = new Array<number>(width).fill(0)
  for (const row of rows) {
    if (row.gain === null) continue
    const on = [0, ...row.bins.map((b, f) => index(f, b))]
    for (const i of on) {
      xty[i]! += row.gain
      for (const j of on) xtx[i]![j]! += 1
    }
  }
  for (let i = 1; i < width; i++) xtx[i]![i]! += ridge
  const weights = solve(xtx, xty)
  const predict = (r: FeatureRow) => r.bins.reduce((s, b, f) => s + weights[index(f, b)]!, weights[0]!)
  return { weights, gains: rows.map(predict), index }
}

/** SQL: per feature and bin, its value range, rows, fitted rows and observed mean gain (for gain_model). */
export const binsSql = (features: string): string =>
  FEATURES.map(
    (f, i) => `SELECT '${f}' AS feature, ${i} AS f, ${f}_bin AS bin, min(${f}) AS bin_lo, max(${f}) AS bin_hi,
      count(*) AS pairs, count(gain) AS fit_pairs, avg(gain) AS mean_gain FROM ${features} GROUP BY ${f}_bin`
  ).join(" UNION ALL ")
