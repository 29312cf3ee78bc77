/**
 * Which pair row a vote (or rating) belongs to, for the families that aggregate votes per pair
 * (judge.aggregate, strength, mix).
 *
 * Rows with identical texts share a pair_id (PandaLM has 70 such groups before dedupe), yet each
 * carries its own raters' votes, so a per-pair count must be per row, not per pair_id. A vote names
 * its row by `source_row` (a column of the votes table, or `meta.source_row`, as load.pandalm and
 * judge.aggregate write it); it is attributed to the one pair row with its pair_id and that
 * source_row. A vote that names no row, or a row that is not there (or not only once), counts for
 * every row with its pair_id: the same comparison. A vote on a pair_id no row has is not attributed.
 * This is the rule dedupe and filter.sql follow when votes follow their rows.
 */
import type { ColumnType } from "../../workbench/core/column-type.js"
import type { TableSchema } from "../../workbench/core/contract.js"

/** The type of a column of `schema`, or undefined when it has none. */
export const columnType = (schema: TableSchema, name: string): ColumnType | undefined =>
  schema.columns.find((c) => c.name === name)?.type

export const hasColumn = (schema: TableSchema, name: string): boolean => columnType(schema, name) !== undefined

const SQL_TYPES: Readonly<Record<string, string>> = {
  utf8: "VARCHAR",
  json: "JSON",
  float64: "DOUBLE",
  int64: "BIGINT",
  int32: "INTEGER",
  bool: "BOOLEAN"
}

/** `alias."name"` when the table has the column, else a typed NULL: optional columns read uniformly. */
export const columnOr = (schema: TableSchema, alias: string, name: string, type: ColumnType): string =>
  hasColumn(schema, name) ? `${alias}."${name}"` : `NULL::${SQL_TYPES[type] ?? "VARCHAR"}`

/** SQL for the row a vote `alias` names (its source_row, or meta.source_row), or undefined when it names none. */
export function voteRowSql(votes: TableSchema, alias = "v"): string | undefined {
  const type = columnType(votes, "source_row")
  if (type !== undefined) return `TRY_CAST(${alias}.source_row AS BIGINT)`
  const fromMeta = `TRY_CAST(json_extract_string(${alias}.meta, '$.source_row') AS BIGINT)`
  const meta = columnType(votes, "meta")
  if (meta === "json") return fromMeta
  if (meta === "utf8") return `CASE WHEN json_valid(${alias}.meta) THEN ${fromMeta} END`
  return undefined
}

/**
 * SQL: the votes of `votes` with `_wb_row`, the position of the pair row each counts for (from
 * `pairsNumbered`, the pairs input's `numbered` relation), and `_wb_vote`, the vote's position in its
 * table. A vote that counts for several rows (no row named, identical rows) appears once per row.
 */
export function votesOnRowsSql(
  pairs: { readonly numbered: string; readonly schema: TableSchema },
  votes: { readonly relation: string; readonly schema: TableSchema }
): string {
  const named = hasColumn(pairs.schema, "source_row") ? voteRowSql(votes.schema) : undefined
  const numberedVotes = `(SELECT v.*, ${named ?? "NULL::BIGINT"} AS _wb_named,
      (row_number() OVER () - 1)::BIGINT AS _wb_vote FROM ${votes.relation} v)`
  const rows = `(SELECT _wb_row, pair_id${named === undefined ? "" : ", source_row"} FROM ${pairs.numbered})`
  if (named === undefined) {
    return `SELECT v.* EXCLUDE (_wb_named), p._wb_row FROM ${numberedVotes} v JOIN ${rows} p ON p.pair_id = v.pair_id`
  }
  const unique = `(SELECT pair_id, source_row, min(_wb_row) AS _wb_row FROM ${rows} GROUP BY ALL HAVING count(*) = 1)`
  return `SELECT v.* EXCLUDE (_wb_named), coalesce(u._wb_row, p._wb_row) AS _wb_row
    FROM ${numberedVotes} v
    LEFT JOIN ${unique} u ON u.pair_id = v.pair_id AND u.source_row = v._wb_named
    JOIN ${rows} p ON p.pair_id = v.pair_id AND (u._wb_row IS NULL OR p._wb_row = u._wb_row)`
}

/** SQL for a vote column as 'a' | 'b' | 'tie' (case and spaces ignored), NULL for anything else. */
export const voteSql = (vote: string): string =>
  `CASE lower(trim(${vote})) WHEN 'a' THEN 'a' WHEN 'b' THEN 'b' WHEN 'tie' THEN 'tie' END`

/** SQL: the majority of a / b / tie counts; a tie when no side has most; NULL without votes. */
export const majoritySql = (na: string, nb: string, nt: string): string =>
  `CASE WHEN ${na} + ${nb} + ${nt} = 0 THEN NULL WHEN ${na} > ${nb} AND ${na} > ${nt} THEN 'a'
     WHEN ${nb} > ${na} AND ${nb} > ${nt} THEN 'b' ELSE 'tie' END`

/** A string as a SQL literal. */
export const sqlText = (s: string): string => `'${s.replaceAll("'", "''")}'`
