/**
 * The pure core of mix.route: SQL text builders for the per-row table (human and AI labels, the
 * uncertainty signals), the routing order of each strategy, the final labels and the human queue.
 */
import type { TableSchema } from "../../workbench/core/contract.js"
import { columnOr, hasColumn, majoritySql, sqlText, voteSql } from "../lib/vote-rows.js"

export type Strategy = "prefer-human" | "fixed-ratio" | "route-by-uncertainty" | "route-by-features"

/** SQL condition: the vote `v` is from a human rater (its rater_kind among `humanKinds`; no kind column: true). */
export const isHumanSql = (votes: TableSchema, humanKinds: ReadonlyArray<string>): string =>
  hasColumn(votes, "rater_kind") ? `coalesce(v.rater_kind IN (${humanKinds.map(sqlText).join(", ")}), false)` : "true"

/** SQL: per pair row, the majority of its human votes (`attached`: human votes with `_wb_row`). */
export const humanLabelsSql = (attached: string, votes: TableSchema, humanKinds: ReadonlyArray<string>): string =>
  `SELECT _wb_row, ${majoritySql("na", "nb", "nt")} AS label_human, (na + nb + nt)::BIGINT AS n_human FROM (
    SELECT _wb_row, count(*) FILTER (WHERE x = 'a') AS na, count(*) FILTER (WHERE x = 'b') AS nb,
      count(*) FILTER (WHERE x = 'tie') AS nt
    FROM (SELECT v._wb_row, ${voteSql("v.vote")} AS x FROM ${attached} v WHERE ${isHumanSql(votes, humanKinds)})
    WHERE x IS NOT NULL GROUP BY _wb_row)`

/**
 * SQL: one vote per pair row × AI rater (`attached`: AI votes with `_wb_row`; votes of human kinds
 * left out): the majority of the rater's usable votes on the row (samples, orders).
 */
export const aiVotesSql = (attached: string, votes: TableSchema, humanKinds: ReadonlyArray<string>): string =>
  `SELECT _wb_row, rater, rater_kind, ${majoritySql("na", "nb", "nt")} AS vote,
      bool_or(inconsistent) AS inconsistent FROM (
    SELECT _wb_row, rater, any_value(kind) AS rater_kind, count(*) FILTER (WHERE x = 'a') AS na,
      count(*) FILTER (WHERE x = 'b') AS nb, count(*) FILTER (WHERE x = 'tie') AS nt,
      coalesce(bool_or(pc = false), false) AS inconsistent
    FROM (SELECT v._wb_row, v.rater, ${columnOr(votes, "v", "rater_kind", "utf8")} AS kind, ${voteSql("v.vote")} AS x,
            ${columnOr(votes, "v", "position_consistent", "bool")} AS pc
          FROM ${attached} v WHERE NOT ${isHumanSql(votes, humanKinds)})
    WHERE x IS NOT NULL GROUP BY _wb_row, rater) GROUP BY ALL`

/**
 * SQL: every pair row with label_human, label_ai (the pairs' label), ai_agreement (share of AI raters
 * voting label_ai; else the pairs' `agreement`), `_inconsistent`, `_strength`, `_hash` (seeded, 0-1).
 */
export function rowsSql(
  pairs: { readonly numbered: string; readonly schema: TableSchema },
  human: string | undefined,
  ai: string | undefined,
  seed: number
): string {
  const s = pairs.schema
  const label = columnOr(s, "p", "label", "utf8")
  const agreement = ai === undefined ? columnOr(s, "p", "agreement", "float64") : "a.ai_agreement"
  const inconsistent = [
    hasColumn(s, "n_inconsistent") ? "coalesce(p.n_inconsistent, 0) > 0" : "false",
    ai === undefined ? "false" : "coalesce(a.inconsistent, false)"
  ].join(" OR ")
  const strength = hasColumn(s, "strength")
    ? "p.strength"
    : hasColumn(s, "label_margin")
      ? "p.label_margin"
      : "NULL::DOUBLE"
  const row = hasColumn(s, "source_row") ? "coalesce(p.source_row::VARCHAR, '')" : "''"
  const agreementOf = (votes: string) => `(SELECT v._wb_row, avg((v.vote = ${label})::INTEGER) AS ai_agreement,
      bool_or(v.inconsistent) AS inconsistent FROM ${votes} v JOIN ${pairs.numbered} p USING (_wb_row) GROUP BY v._wb_row)`
  return `SELECT p.*, ${human === undefined ? "NULL::VARCHAR" : "h.label_human"} AS label_human, ${label} AS label_ai,
      (${agreement})::DOUBLE AS ai_agreement, (${inconsistent}) AS _inconsistent, (${strength})::DOUBLE AS _strength,
      ('0x' || substr(md5(concat_ws(chr(31), ${sqlText(String(seed))}, p.pair_id, ${row})), 1, 12))::BIGINT / 281474976710656.0 AS _hash
    FROM ${pairs.numbered} p
    ${human === undefined ? "" : `LEFT JOIN ${human} h USING (_wb_row)`}
    ${ai === undefined ? "" : `LEFT JOIN ${agreementOf(ai)} a USING (_wb_row)`}`
}

/** The uncertainty order: position-inconsistent first, no AI label, lowest AI agreement, lowest |strength|. */
const UNCERTAIN_FIRST =
  "_inconsistent DESC, (label_ai IS NULL) DESC, ai_agreement ASC NULLS FIRST, abs(_strength) ASC NULLS FIRST, _hash, _wb_row"

/** SQL: the rows of `rows` ranked by the strategy (`route_rank`, 1 = first to humans) with `route_score`. */
export function rankedSql(strategy: Strategy, rows: string, gains: string | undefined): string {
  const from =
    gains === undefined ? rows : `(SELECT r.*, g.gain AS _gain FROM ${rows} r LEFT JOIN ${gains} g USING (_wb_row))`
  const [order, score] =
    strategy === "fixed-ratio"
      ? ["_hash, _wb_row", "_hash"]
      : strategy === "route-by-features"
        ? [`_gain DESC NULLS LAST, ${UNCERTAIN_FIRST}`, "_gain"]
        : [UNCERTAIN_FIRST, "1 - coalesce(ai_agreement, 0)"]
  return `SELECT *, row_number() OVER (ORDER BY ${order})::BIGINT AS route_rank, (${score})::DOUBLE AS route_score FROM ${from}`
}

/** Columns mix.route adds to the pairs (replacing any of the same name). */
export const MIX_COLUMNS = {
  label_ai: "utf8",
  label_human: "utf8",
  routed: "bool",
  route_rank: "int64",
  route_score: "float64",
  ai_agreement: "float64"
} as const

/** SQL for the final label (and its source) of a ranked row routed when route_rank <= k. */
const finalSql = (k: number) => ({
  label: `CASE WHEN route_rank <= ${k} AND label_human IS NOT NULL THEN label_human
    WHEN label_ai IS NOT NULL THEN label_ai ELSE label_human END`,
  source: `CASE WHEN route_rank <= ${k} AND label_human IS NOT NULL THEN 'human'
    WHEN label_ai IS NOT NULL THEN 'ai' WHEN label_human IS NOT NULL THEN 'human' END`
})

/** SQL: the pairs with the final label and label_source (in place when the input has them), in input order. */
export function finalPairsSql(ranked: string, pairs: TableSchema, k: number): string {
  const f = finalSql(k)
  const names = pairs.columns.map((c) => c.name).filter((n) => n !== "_wb_row" && !(n in MIX_COLUMNS))
  const cols = names.map((n) =>
    n === "label" ? `${f.label} AS label` : n === "label_source" ? `${f.source} AS label_source` : `"${n}"`
  )
  if (!names.includes("label")) cols.push(`${f.label} AS label`)
  if (!names.includes("label_source")) cols.push(`${f.source} AS label_source`)
  cols.push(
    "label_ai::VARCHAR AS label_ai",
    "label_human",
    `route_rank <= ${k} AS routed`,
    "route_rank",
    "route_score",
    "ai_agreement"
  )
  return `SELECT ${cols.join(", ")} FROM ${ranked} ORDER BY _wb_row`
}

/** SQL: the routed rows with no human label, in routing order: what to send to annotators. */
export function queueSql(ranked: string, pairs: TableSchema, k: number): string {
  const c = (name: string, type: "utf8" | "int64") => columnOr(pairs, "r", name, type)
  return `SELECT row_number() OVER (ORDER BY r.route_rank)::BIGINT AS queue_rank, r.pair_id, ${c("source_row", "int64")} AS source_row,
      ${c("prompt", "utf8")} AS prompt, r.response_a, r.response_b, r.label_ai::VARCHAR AS label_ai, r.route_score, r.route_rank
    FROM ${ranked} r WHERE r.route_rank <= ${k} AND r.label_human IS NULL ORDER BY r.route_rank`
}
