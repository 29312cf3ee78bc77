/**
 * What the judges without a model share (judge.heuristic, judge.simulated, judge.recorded): the
 * pairs pass through, votes in the shared votes columns, one raters row per rater, and the seeded
 * uniform draws simulated annotators use.
 */
import { output, outputLike, type TableSchema } from "../../workbench/core/contract.js"
import { ratersOutput, voteColumns } from "../lib/pair-tables.js"

export const ruleOutputs = {
  pairs: outputLike("main", "pairs", { doc: "the input pairs, unchanged" }),
  votes: output("aux", voteColumns, {
    doc: "one vote per pair row and rater: pair_id, rater, rater_kind, vote, p_a, order, sample, meta {source_row, …}"
  }),
  raters: ratersOutput()
}

/** A SQL string literal. */
export const sqlText = (s: string): string => `'${s.replaceAll("'", "''")}'`

/** A SQL identifier, quoted. */
export const sqlIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`

export const hasColumn = (schema: TableSchema, name: string): boolean => schema.columns.some((c) => c.name === name)

/**
 * `alias.source_row` when the pairs have it, else NULL: votes name the row they were cast on in
 * meta.source_row, so rows sharing a pair_id (identical pairs before dedupe) keep their own votes.
 */
export const sourceRowSql = (pairs: TableSchema, alias: string): string =>
  hasColumn(pairs, "source_row") ? `${alias}.source_row::BIGINT` : "NULL::BIGINT"

/** SQL for a raters table of one rater per row of `rows` ([name, kind, attributes]), in that order. */
export const ratersSql = (rows: ReadonlyArray<readonly [string, string, unknown]>): string =>
  `SELECT rater, rater_kind, attributes::JSON AS attributes FROM (VALUES ${rows
    .map(([r, k, a], i) => `(${i}, ${sqlText(r)}, ${sqlText(k)}, ${sqlText(JSON.stringify(a))})`)
    .join(", ")}) t(i, rater, rater_kind, attributes) ORDER BY i`

/** 2^52: a draw keeps 13 hex digits (52 bits) of md5, which a DOUBLE holds exactly. */
export const DRAW_SCALE = 4503599627370496

/**
 * SQL: a uniform draw in [0, 1) from md5 over the seed and `parts` (unit separators between), the
 * same on every machine and run, independent of row order: the first 13 hex digits as an integer / 2^52
 * (anyone can check a simulation by hand with any md5).
 */
export const drawSql = (seed: number, parts: ReadonlyArray<string>): string =>
  `(('0x' || substr(md5(concat(${sqlText(String(seed))}, ${parts.map((p) => `chr(31), ${p}`).join(", ")})), 1, 13))::BIGINT / ${DRAW_SCALE}.0)`
