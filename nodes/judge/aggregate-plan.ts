/**
 * The pure core of judge.aggregate: SQL text builders, from params and input relations to the
 * statements the node runs (no I/O here; aggregate.ts runs them).
 *
 * Every usable vote or rating becomes a *judgment* of one rater on one pair row, with side scores
 * (s_a, s_b): a vote with probability p (its p_a, else 1 / 0 / 0.5 for a / b / tie) scores (p, 1 − p),
 * so its margin s_a − s_b is 2·p − 1; a rater's ratings score each side by the aspect weights. A rater's
 * judgments of one row (samples, both orders) collapse into one vote; the raters' votes of a row give
 * its label by the rule.
 */
import type { TableSchema } from "../../workbench/core/contract.js"
import { columnOr, majoritySql, sqlText, voteSql } from "../lib/vote-rows.js"

export type AggregateRule = "majority" | "mean-p" | "mean" | "worst-case" | "uncertainty"

export interface AggregatePlan {
  readonly rule: AggregateRule
  readonly lambda: number
  readonly epsilon: number
  readonly raters: ReadonlyArray<string> | null
  readonly raterKinds: ReadonlyArray<string> | null
  readonly inconsistent: "tie" | "drop" | "keep-first"
  readonly aspects: "mean" | Readonly<Record<string, number>>
  readonly normalize: boolean
  readonly minVotes: number
  readonly unvoted: "keep" | "null"
}

/** The columns judge.aggregate adds to the pairs (replacing any an earlier aggregate wrote). */
export const AGGREGATE_COLUMNS = {
  n_votes: "int64",
  agreement: "float64",
  p_a_mean: "float64",
  margin_mean: "float64",
  margin_std: "float64",
  n_inconsistent: "int64",
  label_margin: "float64"
} as const

/** SQL: 'a' / 'b' / 'tie' by the sign of a margin, a tie within epsilon. */
const signSql = (m: string, eps: number) =>
  `CASE WHEN ${m} > ${eps} THEN 'a' WHEN ${m} < ${-eps} THEN 'b' ELSE 'tie' END`

/** SQL condition keeping the raters and kinds the params name (true when they name none). */
export function raterFilterSql(plan: AggregatePlan, kind: string): string {
  const list = (xs: ReadonlyArray<string>) => xs.map(sqlText).join(", ")
  const parts = ["true"]
  if (plan.raters !== null) parts.push(`v.rater IN (${list(plan.raters)})`)
  if (plan.raterKinds !== null) parts.push(`${kind} IN (${list(plan.raterKinds)})`)
  return parts.join(" AND ")
}

/**
 * SQL: one judgment per usable vote of `attached` (votes with `_wb_row`, from votesOnRowsSql):
 * _wb_row, rater, rater_kind, ord, vote, p, s_a, s_b, src. A vote of anything but a / b / tie with a
 * p_a takes its side from p_a; without either it is not usable (counted by the node).
 */
export function voteJudgmentsSql(plan: AggregatePlan, attached: string, votes: TableSchema): string {
  const kind = columnOr(votes, "v", "rater_kind", "utf8")
  const pa = columnOr(votes, "v", "p_a", "float64")
  const ord = columnOr(votes, "v", "order", "utf8")
  return `SELECT _wb_row, rater, rater_kind, ord, vote, p, p AS s_a, 1 - p AS s_b, 'votes' AS src FROM (
    SELECT v._wb_row, v.rater, ${kind} AS rater_kind,
      CASE lower(${ord}) WHEN 'ab' THEN 'ab' WHEN 'ba' THEN 'ba' END AS ord,
      coalesce(${voteSql("v.vote")}, CASE WHEN ${pa} IS NOT NULL THEN ${signSql(`2 * ${pa} - 1`, plan.epsilon)} END) AS vote,
      coalesce(${pa}, CASE ${voteSql("v.vote")} WHEN 'a' THEN 1.0 WHEN 'b' THEN 0.0 WHEN 'tie' THEN 0.5 END) AS p
    FROM ${attached} v WHERE ${raterFilterSql(plan, kind)})
  WHERE vote IS NOT NULL`
}

/** SQL: a (pair row, rater, side)'s score from its aspect scores, by the `aspects` param. */
function combineSql(aspects: AggregatePlan["aspects"]): string {
  if (aspects === "mean") {
    // UltraFeedback's mean of the aspects; 'overall' alone when a rater gave nothing else
    return "coalesce(avg(s) FILTER (WHERE aspect IS DISTINCT FROM 'overall'), avg(s) FILTER (WHERE aspect = 'overall'))"
  }
  const entries = Object.entries(aspects)
  const w = `CASE aspect ${entries.map(([a, x]) => `WHEN ${sqlText(a)} THEN ${x}`).join(" ")} END`
  const named = `aspect IN (${entries.map(([a]) => sqlText(a)).join(", ")})`
  return `sum(s * ${w}) FILTER (WHERE ${named}) / nullif(sum(${w}) FILTER (WHERE ${named}), 0)`
}

/**
 * SQL: one judgment per (pair row, rater) whose ratings score both sides: s_a, s_b as the aspects
 * combine (scaled to 0-1 by scale_min / scale_max when `normalize`), vote by the sign of s_a − s_b
 * (a tie within epsilon), p = (1 + s_a − s_b) / 2 clamped to 0-1.
 */
export function ratingJudgmentsSql(plan: AggregatePlan, attached: string, ratings: TableSchema): string {
  const kind = columnOr(ratings, "v", "rater_kind", "utf8")
  const lo = columnOr(ratings, "v", "scale_min", "float64")
  const hi = columnOr(ratings, "v", "scale_max", "float64")
  const score = plan.normalize
    ? `CASE WHEN ${hi} > ${lo} THEN (v.score - ${lo}) / (${hi} - ${lo}) ELSE v.score END`
    : "v.score"
  const sides = `(SELECT _wb_row, rater, any_value(rater_kind) AS rater_kind, side, ${combineSql(plan.aspects)} AS s
    FROM (SELECT v._wb_row, v.rater, ${kind} AS rater_kind, lower(trim(v.side)) AS side, v.aspect, (${score})::DOUBLE AS s
          FROM ${attached} v WHERE v.score IS NOT NULL AND ${raterFilterSql(plan, kind)})
    WHERE side IN ('a', 'b') GROUP BY _wb_row, rater, side)`
  return `SELECT a._wb_row, a.rater, a.rater_kind, NULL::VARCHAR AS ord, ${signSql("a.s - b.s", plan.epsilon)} AS vote,
      greatest(0.0, least(1.0, (1 + a.s - b.s) / 2)) AS p, a.s AS s_a, b.s AS s_b, 'ratings' AS src
    FROM ${sides} a JOIN ${sides} b ON a._wb_row = b._wb_row AND a.rater = b.rater AND a.side = 'a' AND b.side = 'b'
    WHERE a.s IS NOT NULL AND b.s IS NOT NULL`
}

/**
 * SQL: one vote per (pair row, rater) from its judgments. Samples of one order collapse by majority
 * (mean p and scores); a rater that saw both orders and gave different verdicts is position-
 * inconsistent (`consistent` false; NULL when it did not see both): its vote is a tie (p 0.5, equal
 * side scores), dropped, or its 'ab' verdict, by `inconsistent`.
 */
export function collapseSql(plan: AggregatePlan, judgments: string): string {
  const counts = (o: string, suffix: string) =>
    ["a", "b", "tie"].map((x) => `count_if(${o}vote = '${x}') AS n${x}${suffix}`).join(", ")
  const grouped = `(SELECT _wb_row, rater, any_value(rater_kind) AS rater_kind, count(*) AS n,
      ${counts("", "")}, ${counts("ord = 'ab' AND ", "1")}, ${counts("ord = 'ba' AND ", "2")},
      count_if(ord = 'ab') AS n1, count_if(ord = 'ba') AS n2,
      avg(p) AS p, avg(s_a) AS s_a, avg(s_b) AS s_b,
      avg(p) FILTER (WHERE ord = 'ab') AS p1, avg(s_a) FILTER (WHERE ord = 'ab') AS s_a1, avg(s_b) FILTER (WHERE ord = 'ab') AS s_b1,
      string_agg(DISTINCT ord, ',' ORDER BY ord) AS orders, string_agg(DISTINCT src, ',' ORDER BY src) AS src
    FROM ${judgments} GROUP BY _wb_row, rater)`
  const marked = `(SELECT *, ${majoritySql("na", "nb", "ntie")} AS v_all, ${majoritySql("na1", "nb1", "ntie1")} AS v1,
      CASE WHEN n1 > 0 AND n2 > 0 THEN ${majoritySql("na1", "nb1", "ntie1")} = ${majoritySql("na2", "nb2", "ntie2")} END AS consistent
    FROM ${grouped})`
  const off = "consistent = false"
  const [vote, p, sa, sb] =
    plan.inconsistent === "keep-first"
      ? [
          `CASE WHEN ${off} THEN v1 ELSE v_all END`,
          `CASE WHEN ${off} THEN p1 ELSE p END`,
          `CASE WHEN ${off} THEN s_a1 ELSE s_a END`,
          `CASE WHEN ${off} THEN s_b1 ELSE s_b END`
        ]
      : [
          `CASE WHEN ${off} THEN 'tie' ELSE v_all END`,
          `CASE WHEN ${off} THEN 0.5 ELSE p END`,
          `CASE WHEN ${off} THEN (s_a + s_b) / 2 ELSE s_a END`,
          `CASE WHEN ${off} THEN (s_a + s_b) / 2 ELSE s_b END`
        ]
  return `SELECT _wb_row, rater, rater_kind, ${vote} AS vote, ${p} AS p, ${sa} AS s_a, ${sb} AS s_b,
      consistent, n, orders, src, ${plan.inconsistent === "drop" ? `(${off}) IS TRUE` : "false"} AS dropped
    FROM ${marked}`
}

/**
 * SQL: counts of the votes in `attached` (each vote once, however many rows it counts for): matched
 * (on a pair row), kept (by the rater filters), usable (kept, and a / b / tie or a p_a).
 */
export function voteCountsSql(plan: AggregatePlan, attached: string, votes: TableSchema): string {
  const kept = raterFilterSql(plan, columnOr(votes, "v", "rater_kind", "utf8"))
  const usable = `${voteSql("v.vote")} IS NOT NULL OR ${columnOr(votes, "v", "p_a", "float64")} IS NOT NULL`
  return `SELECT count(DISTINCT _wb_vote)::INTEGER AS matched,
      count(DISTINCT _wb_vote) FILTER (WHERE ${kept})::INTEGER AS kept,
      count(DISTINCT _wb_vote) FILTER (WHERE (${kept}) AND (${usable}))::INTEGER AS usable
    FROM ${attached} v`
}

/** SQL for the rule's margin over a row's collapsed votes (positive: a is preferred). */
function ruleMarginSql(plan: AggregatePlan): string {
  const u = (s: string) => `(avg(${s}) - ${plan.lambda} * coalesce(var_pop(${s}), 0))`
  switch (plan.rule) {
    case "majority":
      return "(count_if(vote = 'a') - count_if(vote = 'b')) / count(*)"
    case "mean-p":
      return "2 * avg(p) - 1"
    case "mean":
      return "avg(s_a) - avg(s_b)"
    case "worst-case":
      return "min(s_a) - min(s_b)"
    case "uncertainty":
      return `${u("s_a")} - ${u("s_b")}`
  }
}

/** SQL: per pair row, its label by the rule and the aggregate columns (from collapseSql's table, dropped votes left out). */
export function rowLabelsSql(plan: AggregatePlan, collapsed: string): string {
  const label = plan.rule === "majority" ? majoritySql("na", "nb", "nt") : signSql("label_margin", plan.epsilon)
  return `SELECT *, ${label} AS label,
      CASE ${label} WHEN 'a' THEN na WHEN 'b' THEN nb WHEN 'tie' THEN nt END / n_votes AS agreement
    FROM (SELECT _wb_row, count(*) AS n_votes, count_if(vote = 'a') AS na, count_if(vote = 'b') AS nb,
      count_if(vote = 'tie') AS nt, avg(p) AS p_a_mean, avg(s_a - s_b) AS margin_mean,
      stddev_pop(s_a - s_b) AS margin_std, count_if(consistent = false) AS n_inconsistent,
      ${ruleMarginSql(plan)} AS label_margin,
      CASE WHEN count(rater_kind) < count(*) THEN NULL WHEN bool_and(rater_kind = 'human') THEN 'human'
           WHEN bool_and(rater_kind <> 'human') THEN 'ai' ELSE 'mixed' END AS label_source
    FROM ${collapsed} WHERE NOT dropped GROUP BY _wb_row)`
}

/** SQL for a row's new label (or label_source), over pairs `p` joined with their row labels `g`. */
function newLabelSql(plan: AggregatePlan, pairs: TableSchema, column: "label" | "label_source"): string {
  const old = plan.unvoted === "keep" && pairs.columns.some((c) => c.name === column) ? `p.${column}` : "NULL::VARCHAR"
  return `CASE WHEN coalesce(g.n_votes, 0) >= ${plan.minVotes} THEN g.${column} ELSE ${old} END`
}

/** SQL: the label counts after aggregation, and how many rows changed label (pairs `p` with row labels `g`). */
export function labelStatsSql(plan: AggregatePlan, numbered: string, pairs: TableSchema, labels: string): string {
  const label = newLabelSql(plan, pairs, "label")
  const before = pairs.columns.some((c) => c.name === "label") ? "p.label" : "NULL::VARCHAR"
  return `SELECT count(*) FILTER (WHERE coalesce(g.n_votes, 0) >= ${plan.minVotes})::INTEGER AS pairs_voted,
      count(*) FILTER (WHERE (${label}) IS DISTINCT FROM ${before})::INTEGER AS relabelled,
      count(*) FILTER (WHERE (${label}) = 'a')::INTEGER AS label_a, count(*) FILTER (WHERE (${label}) = 'b')::INTEGER AS label_b,
      count(*) FILTER (WHERE (${label}) = 'tie')::INTEGER AS label_tie
    FROM ${numbered} p LEFT JOIN ${labels} g USING (_wb_row)`
}

/**
 * SQL: the pairs, in input order, with label and label_source from `labels` where a row has at least
 * `minVotes` votes (else kept, or NULL by `unvoted`), and the aggregate columns. Label columns stay
 * where the input has them; columns an earlier aggregate wrote are replaced.
 */
export function labelledPairsSql(plan: AggregatePlan, numbered: string, pairs: TableSchema, labels: string): string {
  const names = pairs.columns.map((c) => c.name).filter((n) => n !== "_wb_row" && !(n in AGGREGATE_COLUMNS))
  const cols = names.map((n) =>
    n === "label" || n === "label_source" ? `${newLabelSql(plan, pairs, n)} AS ${n}` : `p."${n}"`
  )
  for (const n of ["label", "label_source"] as const) {
    if (!names.includes(n)) cols.push(`${newLabelSql(plan, pairs, n)} AS ${n}`)
  }
  cols.push(
    "coalesce(g.n_votes, 0)::BIGINT AS n_votes",
    "g.agreement::DOUBLE AS agreement",
    "g.p_a_mean::DOUBLE AS p_a_mean",
    "g.margin_mean::DOUBLE AS margin_mean",
    "g.margin_std::DOUBLE AS margin_std",
    "coalesce(g.n_inconsistent, 0)::BIGINT AS n_inconsistent",
    "g.label_margin::DOUBLE AS label_margin"
  )
  return `SELECT ${cols.join(", ")} FROM ${numbered} p LEFT JOIN ${labels} g USING (_wb_row) ORDER BY p._wb_row`
}

/** SQL: the collapsed votes as a votes table (one row per pair row x rater), in pair order. */
export function collapsedVotesSql(numbered: string, pairs: TableSchema, collapsed: string): string {
  const row = pairs.columns.some((c) => c.name === "source_row") ? "'source_row', p.source_row, " : ""
  return `SELECT p.pair_id, c.rater, c.rater_kind, c.vote, c.p::DOUBLE AS p_a, NULL::VARCHAR AS "order", NULL::BIGINT AS sample,
      json_object(${row}'judgments', c.n, 'orders', c.orders, 'from', c.src) AS meta,
      (c.s_a - c.s_b)::DOUBLE AS margin, c.consistent AS position_consistent
    FROM ${collapsed} c JOIN ${numbered} p USING (_wb_row) WHERE NOT c.dropped ORDER BY p._wb_row, c.rater`
}
