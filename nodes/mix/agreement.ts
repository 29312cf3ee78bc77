/**
 * mix.route's agreement report (pure SQL builders): each AI rater, and the AI label, against the human
 * label of the same pair row — confusion matrix, accuracy, Cohen's kappa — and the two biases judges
 * are known for: P(prefer longer) and P(prefer position 1).
 */
import type { TableSchema } from "../../workbench/core/contract.js"
import { firstSideSql, lengthsDifferSql, longerSideSql } from "../lib/agreement-sql.js"
import { columnOr, voteSql } from "../lib/vote-rows.js"
import { isHumanSql } from "./plan.js"

export const AGREEMENT_COLUMNS = {
  rater: "utf8",
  rater_kind: "utf8",
  pairs: "int64",
  voted: "int64",
  agree: "int64",
  accuracy: "float64",
  accuracy_voted: "float64",
  kappa: "float64",
  decisive: "int64",
  p_prefer_longer: "float64",
  p_prefer_first: "float64"
} as const

export const CONFUSION_COLUMNS = { rater: "utf8", human: "utf8", ai: "utf8", pairs: "int64" } as const

export const AI_LABEL = "(ai label)"
export const HUMAN_LABEL = "(human label)"

/**
 * SQL: one verdict per pair row × rater: each AI rater's (collapsed) vote, then the AI label (the
 * pairs' label before mixing) as rater '(ai label)'.
 */
export const verdictsSql = (rows: string, aiVotes: string | undefined): string =>
  [
    ...(aiVotes === undefined ? [] : [`SELECT _wb_row, rater, rater_kind, vote FROM ${aiVotes}`]),
    // (each part names its columns: a UNION takes its names from the first, which may be this one)
    `SELECT _wb_row, '${AI_LABEL}' AS rater, NULL::VARCHAR AS rater_kind, label_ai AS vote FROM ${rows} WHERE label_ai IS NOT NULL`
  ].join(" UNION ALL ")

/**
 * SQL: the confusion matrix of each rater in `verdicts` against the human label, over the rows that
 * have one: human a / b / tie × rater a / b / tie / none (no usable vote), zeros included.
 */
export function confusionSql(rows: string, verdicts: string): string {
  const raters = `(SELECT DISTINCT rater FROM ${verdicts})`
  const grid = `(SELECT r.rater, h.k AS human, a.k AS ai, h.i * 4 + a.i AS cell FROM ${raters} r,
      (VALUES ('a', 0), ('b', 1), ('tie', 2)) h(k, i), (VALUES ('a', 0), ('b', 1), ('tie', 2), ('none', 3)) a(k, i))`
  const counted = `(SELECT r.rater, x.label_human AS human, coalesce(v.vote, 'none') AS ai, count(*) AS n
    FROM ${raters} r CROSS JOIN (SELECT _wb_row, label_human FROM ${rows} WHERE label_human IS NOT NULL) x
    LEFT JOIN ${verdicts} v ON v.rater = r.rater AND v._wb_row = x._wb_row GROUP BY ALL)`
  return `SELECT g.rater, g.human, g.ai, coalesce(c.n, 0)::BIGINT AS pairs FROM ${grid} g
    LEFT JOIN ${counted} c ON c.rater = g.rater AND c.human = g.human AND c.ai = g.ai
    ORDER BY g.rater = '${AI_LABEL}', g.rater, g.cell`
}

/**
 * SQL: every decision that can show a bias, one per vote: raw AI votes (each sample and order
 * counts; position 1 is response_b when the vote's order is 'ba', else response_a), then the AI label
 * and the human label of each row (position 1: response_a).
 */
export function decisionsSql(
  rows: string,
  aiAttached: string | undefined,
  votes: TableSchema | undefined,
  humanKinds: ReadonlyArray<string>
): string {
  const parts = [
    `SELECT _wb_row, '${AI_LABEL}' AS rater, label_ai AS vote, 'a' AS first FROM ${rows}`,
    `SELECT _wb_row, '${HUMAN_LABEL}', label_human, 'a' FROM ${rows}`
  ]
  if (aiAttached !== undefined && votes !== undefined) {
    const order = columnOr(votes, "v", "order", "utf8")
    parts.unshift(`SELECT v._wb_row, v.rater AS rater, ${voteSql("v.vote")} AS vote,
      ${firstSideSql(order)} AS first FROM ${aiAttached} v WHERE NOT ${isHumanSql(votes, humanKinds)}`)
  }
  return parts.join(" UNION ALL ")
}

/** SQL: the agreement table from the confusion matrix, the decisions and the rows (for lengths). */
export function agreementSql(rows: string, confusion: string, decisions: string, verdicts: string): string {
  const totals = `(SELECT rater, sum(pairs) AS pairs, sum(pairs) FILTER (WHERE ai <> 'none') AS voted,
      sum(pairs) FILTER (WHERE ai = human) AS agree FROM ${confusion} GROUP BY rater)`
  // chance agreement: sum over labels of P(human = k) · P(rater = k), both over the voted rows
  const chance = `(SELECT h.rater, sum(h.n * coalesce(a.n, 0)) AS pe_num FROM
      (SELECT rater, human AS k, sum(pairs) AS n FROM ${confusion} WHERE ai <> 'none' GROUP BY ALL) h
      LEFT JOIN (SELECT rater, ai AS k, sum(pairs) AS n FROM ${confusion} WHERE ai <> 'none' GROUP BY ALL) a
      ON a.rater = h.rater AND a.k = h.k GROUP BY h.rater)`
  const bias = `(SELECT d.rater, count(*) AS decisive,
      avg((d.vote = d.first)::INTEGER) AS p_prefer_first,
      avg((d.vote = ${longerSideSql("r.response_a", "r.response_b")})::INTEGER)
        FILTER (WHERE ${lengthsDifferSql("r.response_a", "r.response_b")}) AS p_prefer_longer
    FROM (${decisions}) d JOIN ${rows} r USING (_wb_row) WHERE d.vote IN ('a', 'b') GROUP BY d.rater)`
  const kinds = `(SELECT rater, any_value(rater_kind) AS rater_kind FROM (${verdicts}) GROUP BY rater)`
  const rated = `SELECT t.rater, k.rater_kind, t.pairs, t.voted, t.agree, t.agree / nullif(t.pairs, 0) AS accuracy,
      t.agree / nullif(t.voted, 0) AS accuracy_voted,
      CASE WHEN t.voted > 0 AND c.pe_num < t.voted * t.voted
        THEN (t.agree / t.voted - c.pe_num / (t.voted * t.voted)) / (1 - c.pe_num / (t.voted * t.voted)) END AS kappa,
      (t.rater = '${AI_LABEL}')::INTEGER AS _k
    FROM ${totals} t LEFT JOIN ${chance} c USING (rater) LEFT JOIN ${kinds} k USING (rater)`
  const human = `SELECT '${HUMAN_LABEL}', 'human', count(label_human), count(label_human), NULL, NULL, NULL, NULL, 2
    FROM ${rows}`
  return `SELECT x.rater, x.rater_kind, x.pairs::BIGINT AS pairs, x.voted::BIGINT AS voted, x.agree::BIGINT AS agree,
      x.accuracy::DOUBLE AS accuracy, x.accuracy_voted::DOUBLE AS accuracy_voted, x.kappa::DOUBLE AS kappa,
      coalesce(b.decisive, 0)::BIGINT AS decisive, b.p_prefer_longer::DOUBLE AS p_prefer_longer,
      b.p_prefer_first::DOUBLE AS p_prefer_first
    FROM (${rated} UNION ALL ${human}) x LEFT JOIN ${bias} b USING (rater) ORDER BY x._k, x.rater`
}
