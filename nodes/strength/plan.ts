/**
 * The pure core of strength.filter: SQL text builders from params and input relations (no I/O).
 *
 * A vote's margin is its `margin` column when it has one (judge.aggregate's collapsed votes, a reward
 * difference), else 2·p_a − 1, else +1 / −1 / 0 for a / b / tie. A pair row's strength is the mean
 * margin of its votes oriented towards its label (+ for 'a', − for 'b'); ties and unlabelled rows have
 * none.
 */
import type { TableSchema } from "../../workbench/core/contract.js"
import { columnOr, hasColumn, voteSql } from "../lib/vote-rows.js"

export interface StrengthPlan {
  readonly drop: { readonly below: number } | { readonly fraction: number } | null
  readonly flipBelow: number | null
  readonly smoothing: number
  readonly marginScale: number
  readonly minVotes: number
  readonly bins: number
}

/** Columns strength.filter adds to the pairs (replacing any an earlier one wrote). */
export const STRENGTH_COLUMNS = {
  strength: "float64",
  strength_std: "float64",
  strength_votes: "int64",
  strength_action: "utf8",
  flipped: "bool",
  label_weight: "float64",
  margin: "float64"
} as const

/** SQL: per pair row with votes: n, mean and population std of the margins (`attached`: votes with `_wb_row`). */
export function rowMarginsSql(attached: string, votes: TableSchema): string {
  const pa = columnOr(votes, "v", "p_a", "float64")
  const own = hasColumn(votes, "margin") ? "TRY_CAST(v.margin AS DOUBLE)" : "NULL::DOUBLE"
  const hard = `CASE ${voteSql("v.vote")} WHEN 'a' THEN 1.0 WHEN 'b' THEN -1.0 WHEN 'tie' THEN 0.0 END`
  return `SELECT _wb_row, count(m) AS n, avg(m) AS m, stddev_pop(m) AS sd
    FROM (SELECT v._wb_row, coalesce(${own}, 2 * ${pa} - 1, ${hard}) AS m FROM ${attached} v)
    WHERE m IS NOT NULL GROUP BY _wb_row`
}

/**
 * SQL: every pair row (`numbered`, with its `_wb_row`) with the strength columns and `_drop` (whether
 * it goes to `dropped`), the label flipped where strength < flipBelow. Drop rules read the strength
 * after flipping (a flipped pair is strong for its new label); the bottom fraction is of the rows
 * that have a strength, lowest first, ties by input order.
 */
export function strengthRowsSql(plan: StrengthPlan, numbered: string, margins: string, hasLabel: boolean): string {
  const label = hasLabel ? "p.label" : "NULL::VARCHAR"
  const oriented = `CASE WHEN coalesce(g.n, 0) < ${plan.minVotes} THEN NULL WHEN ${label} = 'a' THEN g.m WHEN ${label} = 'b' THEN -g.m END`
  const flip = plan.flipBelow === null ? "false" : `coalesce(s0 < ${plan.flipBelow}, false)`
  const base = `(SELECT p.*, ${oriented} AS s0, g.sd AS strength_std, coalesce(g.n, 0)::BIGINT AS strength_votes,
      ${flip} AS flipped FROM ${numbered} p LEFT JOIN ${margins} g USING (_wb_row))`
  const after = `(SELECT *, CASE WHEN flipped THEN -s0 ELSE s0 END AS strength,
      row_number() OVER (ORDER BY CASE WHEN flipped THEN -s0 ELSE s0 END ASC NULLS LAST, _wb_row) AS _rank,
      count(s0) OVER () AS _ranked FROM ${base})`
  const drop =
    plan.drop === null
      ? "false"
      : "below" in plan.drop
        ? `coalesce(strength < ${plan.drop.below}, false)`
        : `(strength IS NOT NULL AND _rank <= floor(${plan.drop.fraction} * _ranked))`
  const clamp = "greatest(-1.0, least(1.0, coalesce(strength, 0.0)))"
  return `SELECT *, ${drop} AS _drop,
      CASE WHEN ${drop} THEN 'dropped' WHEN flipped THEN 'flipped' WHEN strength IS NOT NULL THEN 'kept'
           WHEN strength_votes < ${plan.minVotes} THEN 'no-votes' ELSE 'no-label' END AS strength_action,
      (1 - ${plan.smoothing} * (1 - ${clamp}) / 2)::DOUBLE AS label_weight,
      (${plan.marginScale} * greatest(coalesce(strength, 0.0), 0.0))::DOUBLE AS margin
    FROM ${after}`
}

/**
 * SQL: the kept or dropped rows with the input's columns (label swapped where flipped, in place) and
 * the strength columns, in input order; `dropped` rows get a reason.
 */
export function outputRowsSql(plan: StrengthPlan, rows: string, pairs: TableSchema, dropped: boolean): string {
  const names = pairs.columns
    .map((c) => c.name)
    .filter((n) => n !== "_wb_row" && !(dropped && n === "reason") && !(n in STRENGTH_COLUMNS))
  const cols = names.map((n) =>
    n === "label"
      ? "CASE WHEN flipped THEN CASE label WHEN 'a' THEN 'b' WHEN 'b' THEN 'a' END ELSE label END AS label"
      : `"${n}"`
  )
  cols.push(
    "strength::DOUBLE AS strength",
    "strength_std::DOUBLE AS strength_std",
    "strength_votes",
    "strength_action",
    "flipped",
    "label_weight",
    "margin"
  )
  if (dropped && plan.drop !== null) {
    const reason =
      "below" in plan.drop
        ? `'strength below ${plan.drop.below}'`
        : `'strength in the bottom ${plan.drop.fraction} of the pairs'`
    cols.push(`${reason} AS reason`)
  } else if (dropped) cols.push("NULL::VARCHAR AS reason")
  return `SELECT ${cols.join(", ")} FROM ${rows} WHERE ${dropped ? "" : "NOT "}_drop ORDER BY _wb_row`
}

/**
 * SQL: the histogram of the strength before any flip, `bins` equal bins over [min(−1, lowest),
 * max(1, highest)], counted by what happened to the rows (kept, flipped, dropped; every bin of each, 0
 * included), then one row each for rows without a strength (no-votes, no-label; bin NULL).
 */
export function reportSql(plan: StrengthPlan, rows: string): string {
  const range = `(SELECT least(-1.0, min(s0)) AS lo, greatest(1.0, max(s0)) AS hi FROM ${rows})`
  const binned = `(SELECT least(${plan.bins - 1}, floor((s0 - r.lo) / ((r.hi - r.lo) / ${plan.bins})))::BIGINT AS bin,
      strength_action AS action
    FROM ${rows}, ${range} r WHERE s0 IS NOT NULL)`
  const grid = `(SELECT b.i AS bin, a.action, r.lo + b.i * (r.hi - r.lo) / ${plan.bins} AS bin_lo,
      r.lo + (b.i + 1) * (r.hi - r.lo) / ${plan.bins} AS bin_hi, a.k
    FROM range(${plan.bins}) b(i), (VALUES ('kept', 0), ('flipped', 1), ('dropped', 2)) a(action, k), ${range} r)`
  return `SELECT bin, bin_lo, bin_hi, action, pairs FROM (
      SELECT g.bin, round(g.bin_lo, 12)::DOUBLE AS bin_lo, round(g.bin_hi, 12)::DOUBLE AS bin_hi, g.action, count(x.bin)::BIGINT AS pairs, g.k
      FROM ${grid} g LEFT JOIN ${binned} x ON x.bin = g.bin AND x.action = g.action GROUP BY ALL
      UNION ALL
      SELECT NULL::BIGINT, NULL::DOUBLE, NULL::DOUBLE, strength_action, count(*)::BIGINT, 3 + (strength_action = 'no-label')::INTEGER
      FROM ${rows} WHERE s0 IS NULL GROUP BY strength_action)
    ORDER BY k, bin`
}
